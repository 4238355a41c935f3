package op

import (
	"bytes"
	"fmt"

	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/dag"
)

// A Transition's writes are bounded only by the operation's size
// (dag.MaxOpSize): keys and values are what the state store and the
// runtime accept — any bytes, the empty key included — so every transition
// a node can commit and publish is one its peers accept.

// Write is one state write of a transition, in key order (the order
// state.WriteDigest hashes). Delete removes Key (Value must then be
// empty); otherwise Key is set to Value, which may be empty. Key may be
// empty: the state store allows it.
type Write struct {
	Key    []byte `cbor:"1,keyasint" json:"key"`
	Value  []byte `cbor:"2,keyasint" json:"value"`
	Delete bool   `cbor:"3,keyasint" json:"delete"`
}

// Transition is a finalized state transition: the certified receipt and
// the ordered writes whose digest the receipt commits to.
type Transition struct {
	Receipt consensus.CertifiedReceipt `cbor:"1,keyasint" json:"receipt"`
	Writes  []Write                    `cbor:"2,keyasint" json:"writes"`
}

// Op returns the operation.
func (t Transition) Op() (dag.Op, error) {
	if err := t.check(); err != nil {
		return dag.Op{}, fmt.Errorf("encode transition: %w", err)
	}
	return encode(KindTransition, &t)
}

// DecodeTransition strictly decodes op's body and checks its limits and
// shape. The certificate is not verified here: that needs the program's
// committee, so the handler checks it when applying (CertifiedReceipt.Verify).
func DecodeTransition(op dag.Op) (*Transition, error) {
	var t Transition
	if err := decode(op, KindTransition, &t); err != nil {
		return nil, fmt.Errorf("decode transition: %w", err)
	}
	if err := t.check(); err != nil {
		return nil, fmt.Errorf("decode transition of %s: %w", t.Receipt.Receipt.Program, err)
	}
	return &t, nil
}

func (t *Transition) check() error {
	if t.Receipt.Receipt.Height == 0 {
		return fmt.Errorf("%w: height 0", ErrInvalid)
	}
	if err := t.Receipt.Check(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	for i, w := range t.Writes {
		if w.Delete && len(w.Value) != 0 {
			return fmt.Errorf("%w: write %d deletes with a value", ErrInvalid, i)
		}
		if i > 0 && bytes.Compare(t.Writes[i-1].Key, w.Key) >= 0 {
			return fmt.Errorf("%w: writes not in strictly ascending key order at %d", ErrInvalid, i)
		}
	}
	return nil
}

func validateTransition(op dag.Op, _ *dag.Vertex) error {
	_, err := DecodeTransition(op)
	return err
}
