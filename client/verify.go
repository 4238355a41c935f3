package client

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/onvm-network/onvm/internal/bls"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
)

// ErrInvalidReceipt is matched (errors.Is) by every failure of
// VerifyReceipt: the receipt, or the committee it was checked against, does
// not hold.
var ErrInvalidReceipt = errors.New("client: receipt does not verify")

// invalid marks err as an ErrInvalidReceipt without changing its text.
type invalid struct{ err error }

func (e invalid) Error() string        { return e.err.Error() }
func (e invalid) Unwrap() error        { return e.err }
func (e invalid) Is(target error) bool { return target == ErrInvalidReceipt }

// Verified describes a receipt that VerifyReceipt accepted.
type Verified struct {
	ReceiptID string // 64 hex
	ProgramID string
	Height    uint64
	Signers   int    // committee members whose signatures the aggregate holds
	Members   int    // committee size
	Weight    uint64 // the signers' weight
	Threshold uint64 // the weight the committee requires
}

// VerifyReceipt checks offline, without re-executing anything, that r (the
// answer of GET /receipts/{id}) is in a batch that members of c (the answer
// of GET /programs/{id}/committee) holding at least c's threshold weight
// certified with one aggregate BLS signature: its path leads from exactly
// the receipt fields r shows to the certified batch root. A field edited
// in the JSON, or JSON and cbor_base64 that disagree, fail.
// When c carries an aggregate key it must be the aggregate of its member
// keys. Every failure matches ErrInvalidReceipt.
func VerifyReceipt(r *Receipt, c *Committee) (*Verified, error) {
	agg, err := receiptFromWire(r)
	if err != nil {
		return nil, invalid{err}
	}
	committee, err := committeeFromWire(c)
	if err == nil {
		err = agg.Verify(committee)
	}
	if err != nil {
		return nil, invalid{err}
	}
	v := &Verified{
		ReceiptID: agg.Receipt.ID().String(), ProgramID: agg.Receipt.Program.String(), Height: agg.Receipt.Height,
		Members: len(committee.Members), Threshold: committee.Threshold,
	}
	for i, m := range committee.Members {
		if agg.Certificate.Signers[i/8]&(1<<(i%8)) != 0 {
			v.Signers++
			v.Weight += m.Weight
		}
	}
	return v, nil
}

// CheckReceipt checks what VerifyReceipt can check without the committee:
// the receipt's fields are well formed, its receipt_id is their id, and its
// cbor_base64 says the same. Every failure matches ErrInvalidReceipt.
func CheckReceipt(r *Receipt) error {
	if _, err := receiptFromWire(r); err != nil {
		return invalid{err}
	}
	return nil
}

// receiptFromWire rebuilds the certified receipt from its JSON fields and,
// when cbor_base64 is present, requires the canonical encoding to say
// exactly the same.
func receiptFromWire(j *Receipt) (*consensus.CertifiedReceipt, error) {
	var a consensus.CertifiedReceipt
	r := &a.Receipt
	var err error
	hashes := []struct {
		name string
		s    string
		dst  *id.Hash
	}{
		{"state_root_in", j.StateRootIn, &r.StateRootIn}, {"state_root_out", j.StateRootOut, &r.StateRootOut},
		{"input_hash", j.InputHash, &r.InputHash}, {"request_id", j.RequestID, &r.RequestID},
		{"write_digest", j.WriteDigest, &r.WriteDigest}, {"output_hash", j.OutputHash, &r.OutputHash},
		{"code_hash", j.CodeHash, &r.CodeHash}, {"wasm_env_hash", j.WasmEnvHash, &r.EnvHash},
	}
	for _, h := range hashes {
		if *h.dst, err = id.ParseHash(h.s); err != nil {
			return nil, fmt.Errorf("%s: %w", h.name, err)
		}
	}
	if r.Program, err = id.ParseProgram(j.ProgramID); err != nil {
		return nil, fmt.Errorf("program_id: %w", err)
	}
	if err := r.Executor.UnmarshalText([]byte(j.Executor)); err != nil {
		return nil, fmt.Errorf("executor: %w", err)
	}
	if j.GasUsed != j.Fuel {
		return nil, fmt.Errorf("gas_used %d and fuel %d differ", j.GasUsed, j.Fuel)
	}
	r.Height, r.FuelUsed, r.Timestamp, r.Epoch = j.Height, j.Fuel, j.TimestampMS, j.Epoch
	q := &a.Certificate
	q.Ballot = consensus.Ballot{Program: r.Program, Epoch: r.Epoch, Height: j.Batch.Height, Round: j.Batch.Round, Step: consensus.StepPrecommit}
	if q.Ballot.Value, err = id.ParseHash(j.Batch.Root); err != nil {
		return nil, fmt.Errorf("batch root: %w", err)
	}
	a.Index, a.Count = j.Batch.Index, j.Batch.Count
	for i, s := range j.Batch.Path {
		h, err := id.ParseHash(s)
		if err != nil {
			return nil, fmt.Errorf("batch path %d: %w", i, err)
		}
		a.Path = append(a.Path, h)
	}
	if q.Signers, err = hex.DecodeString(j.SignerBitmap); err != nil {
		return nil, fmt.Errorf("signer_bitmap: %w", err)
	}
	if err := q.Signature.UnmarshalText([]byte(j.AggregateSignature)); err != nil {
		return nil, fmt.Errorf("aggregate_signature: %w", err)
	}
	if j.ReceiptID != "" && j.ReceiptID != r.ID().String() {
		return nil, fmt.Errorf("receipt_id %s is not the id of the receipt's fields (%s)", j.ReceiptID, r.ID())
	}
	if j.CBORBase64 != "" {
		raw, err := base64.StdEncoding.DecodeString(j.CBORBase64)
		if err != nil {
			return nil, fmt.Errorf("cbor_base64: %w", err)
		}
		enc, err := consensus.DecodeCertifiedReceipt(raw)
		if err != nil {
			return nil, fmt.Errorf("cbor_base64: %w", err)
		}
		if string(enc.Encode()) != string(a.Encode()) {
			return nil, errors.New("the JSON fields and cbor_base64 disagree")
		}
	}
	return &a, nil
}

// committeeFromWire converts the committee JSON and, when it carries
// aggregate_public_key, checks it is the aggregate of the member keys.
func committeeFromWire(j *Committee) (*consensus.Committee, error) {
	c := &consensus.Committee{Epoch: j.Epoch, Threshold: j.Threshold}
	var err error
	if c.Program, err = id.ParseProgram(j.ProgramID); err != nil {
		return nil, fmt.Errorf("committee program_id: %w", err)
	}
	for i, m := range j.Members {
		var mm consensus.Member
		if err := mm.Node.UnmarshalText([]byte(m.Node)); err != nil {
			return nil, fmt.Errorf("committee member %d node: %w", i, err)
		}
		var pk bls.PublicKey
		if err := pk.UnmarshalText([]byte(m.BLSPublicKey)); err != nil {
			return nil, fmt.Errorf("committee member %d bls_public_key: %w", i, err)
		}
		mm.Weight, mm.BLSKey = m.Weight, pk
		c.Members = append(c.Members, mm)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if j.AggregatePublicKey != "" {
		agg, err := c.AggregateKey()
		if err != nil {
			return nil, err
		}
		if agg.String() != j.AggregatePublicKey {
			return nil, errors.New("committee aggregate_public_key is not the aggregate of its member keys")
		}
	}
	return c, nil
}
