package op

import (
	"fmt"

	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/dag"
)

// Limits of a Transition's writes. The whole operation must also fit in
// dag.MaxOpSize; a leader whose writes do not fit cannot finalize that
// transition (it is refused at proposal, never silently unpublishable).
const (
	MaxWrites     = 10000
	MaxKeySize    = 1024
	MaxValueSize  = 1 << 20
	maxWriteTotal = dag.MaxOpSize
)

// Write is one state write of a transition, in execution order. Delete
// removes Key (Value must then be empty); otherwise Key is set to Value,
// which may be empty.
type Write struct {
	Key    []byte `cbor:"1,keyasint" json:"key"`
	Value  []byte `cbor:"2,keyasint" json:"value"`
	Delete bool   `cbor:"3,keyasint" json:"delete"`
}

// Transition is a finalized state transition: the committee's aggregated
// receipt and the ordered writes whose digest the receipt commits to.
type Transition struct {
	Receipt consensus.AggregatedReceipt `cbor:"1,keyasint" json:"receipt"`
	Writes  []Write                     `cbor:"2,keyasint" json:"writes"`
}

// Op returns the operation.
func (t Transition) Op() (dag.Op, error) {
	if err := t.check(); err != nil {
		return dag.Op{}, fmt.Errorf("encode transition: %w", err)
	}
	return encode(KindTransition, &t)
}

// DecodeTransition strictly decodes op's body and checks its limits. The
// aggregate signature is not checked here: that needs the program's
// committee, so it is the handler's Check (AggregatedReceipt.Verify).
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
	if len(t.Writes) > MaxWrites {
		return fmt.Errorf("%w: %d writes", ErrInvalid, len(t.Writes))
	}
	for i, w := range t.Writes {
		switch {
		case len(w.Key) == 0 || len(w.Key) > MaxKeySize:
			return fmt.Errorf("%w: write %d key of %d bytes", ErrInvalid, i, len(w.Key))
		case len(w.Value) > MaxValueSize:
			return fmt.Errorf("%w: write %d value of %d bytes", ErrInvalid, i, len(w.Value))
		case w.Delete && len(w.Value) != 0:
			return fmt.Errorf("%w: write %d deletes with a value", ErrInvalid, i)
		}
	}
	return nil
}

func validateTransition(op dag.Op, _ *dag.Vertex) error {
	_, err := DecodeTransition(op)
	return err
}
