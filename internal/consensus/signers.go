package consensus

import (
	"fmt"

	"github.com/onvm-network/onvm/internal/bls"
)

// signerKeys returns the keys and total weight of the members of c that a
// signer bitmap (LSB first, one bit per member) selects. The bitmap must be
// exactly as long as c needs; a set bit beyond the members is an error.
func signerKeys(c *Committee, bitmap []byte) ([]bls.PublicKey, uint64, error) {
	n := len(c.Members)
	if n == 0 || n > MaxMembers {
		return nil, 0, fmt.Errorf("%w: %d members", ErrInvalidCommittee, n)
	}
	if len(bitmap) != (n+7)/8 {
		return nil, 0, fmt.Errorf("%w: signer bitmap is %d bytes, want %d", ErrInvalidReceipt, len(bitmap), (n+7)/8)
	}
	var keys []bls.PublicKey
	var weight uint64
	for i := range len(bitmap) * 8 {
		if bitmap[i/8]&(1<<(i%8)) == 0 {
			continue
		}
		if i >= n {
			return nil, 0, fmt.Errorf("%w: signer bit %d beyond %d members", ErrInvalidReceipt, i, n)
		}
		keys = append(keys, c.Members[i].BLSKey)
		weight += c.Members[i].Weight
	}
	return keys, weight, nil
}

// verifyQuorum checks that bitmap selects members of c holding at least
// the threshold weight and that sig is their aggregate signature of msg
// under dst.
func verifyQuorum(c *Committee, bitmap []byte, dst, msg []byte, sig bls.Signature) error {
	keys, weight, err := signerKeys(c, bitmap)
	if err != nil {
		return err
	}
	if weight < c.Threshold || len(keys) == 0 {
		return fmt.Errorf("%w: weight %d of %d", ErrNoQuorum, weight, c.Threshold)
	}
	if !bls.FastAggregateVerify(keys, dst, msg, sig) {
		return fmt.Errorf("%w: aggregate signature does not verify", ErrInvalidReceipt)
	}
	return nil
}
