package consensus

import (
	"fmt"

	"github.com/onvm-network/onvm/internal/bls"
	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/id"
)

// Receipt is an execution receipt: what one state transition of a program
// consumed and produced. Its id is the BLAKE3 of its canonical encoding,
// and that id is what committee members sign.
type Receipt struct {
	Program      id.Program `cbor:"1,keyasint"`
	Height       uint64     `cbor:"2,keyasint"`
	StateRootIn  id.Hash    `cbor:"3,keyasint"`
	StateRootOut id.Hash    `cbor:"4,keyasint"`
	InputHash    id.Hash    `cbor:"5,keyasint"` // BLAKE3 of the input bytes
	RequestID    id.Hash    `cbor:"6,keyasint"` // idempotency key (jobs) or BLAKE3 of a client request
	FuelUsed     uint64     `cbor:"7,keyasint"`
	WriteDigest  id.Hash    `cbor:"8,keyasint"` // state.WriteDigest of the ordered writes
	OutputHash   id.Hash    `cbor:"9,keyasint"`
	CodeHash     id.Hash    `cbor:"10,keyasint"` // BLAKE3 of the instrumented module
	EnvHash      id.Hash    `cbor:"11,keyasint"` // the runtime's environment hash
	Timestamp    int64      `cbor:"12,keyasint"` // logical time of the call, Unix ms
	Executor     id.Node    `cbor:"13,keyasint"` // the leader that executed it
	Epoch        uint64     `cbor:"14,keyasint"` // committee epoch
}

// Encode returns the canonical encoding.
func (r *Receipt) Encode() []byte { return codec.MustMarshal(r) }

// ID returns the receipt id: BLAKE3 of the canonical encoding.
func (r *Receipt) ID() id.Hash { return id.Sum(r.Encode()) }

// Sign returns the BLS signature of the receipt id under DSTReceipt.
func (r *Receipt) Sign(sk *bls.SecretKey) bls.Signature {
	rid := r.ID()
	return sk.Sign(bls.DSTReceipt, rid[:])
}

// Vote is one committee member's signature of a receipt.
type Vote struct {
	Program   id.Program    `cbor:"1,keyasint"`
	Height    uint64        `cbor:"2,keyasint"`
	ReceiptID id.Hash       `cbor:"3,keyasint"`
	Signer    id.Node       `cbor:"4,keyasint"`
	Signature bls.Signature `cbor:"5,keyasint"`
}

// Verify checks the vote's signature against the signer's committee key.
func (v *Vote) Verify(c *Committee) error {
	i := c.Index(v.Signer)
	if i < 0 {
		return fmt.Errorf("%w: %s", ErrNotMember, v.Signer)
	}
	if !bls.Verify(c.Members[i].BLSKey, bls.DSTReceipt, v.ReceiptID[:], v.Signature) {
		return fmt.Errorf("%w: bad vote signature from %s", ErrInvalidReceipt, v.Signer)
	}
	return nil
}

// AggregatedReceipt is a finalized receipt: the signatures of a quorum of
// the committee, aggregated.
type AggregatedReceipt struct {
	Receipt   Receipt       `cbor:"1,keyasint"`
	Signers   []byte        `cbor:"2,keyasint"` // bitmap over Committee.Members, LSB first
	Signature bls.Signature `cbor:"3,keyasint"`
}

// Encode returns the canonical encoding.
func (a *AggregatedReceipt) Encode() []byte { return codec.MustMarshal(a) }

// DecodeAggregatedReceipt strictly decodes an aggregated receipt.
func DecodeAggregatedReceipt(b []byte) (*AggregatedReceipt, error) {
	var a AggregatedReceipt
	if err := codec.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidReceipt, err)
	}
	return &a, nil
}

// Aggregate builds the aggregated receipt from votes of members of c. Votes
// are verified; duplicates are ignored; fewer than Threshold weight is
// ErrNoQuorum.
func Aggregate(c *Committee, r Receipt, votes []Vote) (*AggregatedReceipt, error) {
	rid := r.ID()
	bitmap := make([]byte, (len(c.Members)+7)/8)
	var sigs []bls.Signature
	var weight uint64
	for _, v := range votes {
		if v.ReceiptID != rid {
			continue
		}
		i := c.Index(v.Signer)
		if i < 0 || bitmap[i/8]&(1<<(i%8)) != 0 {
			continue
		}
		if err := v.Verify(c); err != nil {
			return nil, err
		}
		bitmap[i/8] |= 1 << (i % 8)
		sigs = append(sigs, v.Signature)
		weight += c.Members[i].Weight
	}
	if weight < c.Threshold || len(sigs) == 0 {
		return nil, fmt.Errorf("%w: weight %d of %d", ErrNoQuorum, weight, c.Threshold)
	}
	agg, err := bls.Aggregate(sigs)
	if err != nil {
		return nil, err
	}
	return &AggregatedReceipt{Receipt: r, Signers: bitmap, Signature: agg}, nil
}

// Verify checks a against committee c without re-executing anything: the
// receipt names c's program and epoch, the bitmap selects members of c
// holding at least the threshold weight, and the aggregate signature is
// their signature of the receipt id.
func (a *AggregatedReceipt) Verify(c *Committee) error {
	r := &a.Receipt
	if r.Program != c.Program {
		return fmt.Errorf("%w: receipt for %s, committee for %s", ErrInvalidReceipt, r.Program, c.Program)
	}
	if r.Epoch != c.Epoch {
		return fmt.Errorf("%w: receipt epoch %d, committee epoch %d", ErrInvalidReceipt, r.Epoch, c.Epoch)
	}
	if r.Height == 0 {
		return fmt.Errorf("%w: height 0", ErrInvalidReceipt)
	}
	rid := r.ID()
	return verifyQuorum(c, a.Signers, bls.DSTReceipt, rid[:], a.Signature)
}
