package chain

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/state"
	"github.com/onvm-network/onvm/internal/wasm"
)

// A committee of several members decides a program's transitions in
// batches: the leader of a round executes pending calls one after another
// on top of the program's head and proposes them with their receipts; the
// value agreed on is the batch root of the receipts' ids (consensus.
// BatchRoot), and every member re-executes the calls at the same heights
// before it votes. A batch is the unit of agreement; its transitions are
// still one height each.

// batchCall is one call of a proposed batch: what a member needs to
// execute it again, and the receipt the leader got.
type batchCall struct {
	Input   []byte            `cbor:"1,keyasint"`
	Fuel    uint64            `cbor:"2,keyasint"`
	Receipt consensus.Receipt `cbor:"3,keyasint"`
}

// batchContent is the content of a proposed value.
type batchContent struct {
	Calls []batchCall `cbor:"1,keyasint"`
}

// decodeBatch strictly decodes a proposed batch from a member and checks
// its shape: at least one call, at most consensus.MaxBatch, consecutive
// heights of one program.
func decodeBatch(b []byte) (*batchContent, error) {
	var c batchContent
	if err := codec.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%w: batch: %v", ErrInvalidTransition, err)
	}
	if len(c.Calls) == 0 || len(c.Calls) > consensus.MaxBatch {
		return nil, fmt.Errorf("%w: batch of %d calls", ErrInvalidTransition, len(c.Calls))
	}
	first := &c.Calls[0].Receipt
	for i := range c.Calls {
		r := &c.Calls[i].Receipt
		if r.Program != first.Program || r.Height != first.Height+uint64(i) || r.Height == 0 {
			return nil, fmt.Errorf("%w: batch call %d is not the next height of its program", ErrInvalidTransition, i)
		}
	}
	return &c, nil
}

func (c *batchContent) encode() []byte { return codec.MustMarshal(c) }

// receipts returns the batch's receipts in order.
func (c *batchContent) receipts() []consensus.Receipt {
	out := make([]consensus.Receipt, len(c.Calls))
	for i := range c.Calls {
		out[i] = c.Calls[i].Receipt
	}
	return out
}

// root is the value the batch stands for.
func (c *batchContent) root() id.Hash {
	ids := make([]id.Hash, len(c.Calls))
	for i := range c.Calls {
		ids[i] = c.Calls[i].Receipt.ID()
	}
	return consensus.BatchRoot(ids)
}

// executed is a batch as this member executed it: each call's effective
// writes, output and logs, in order.
type executed struct {
	content *batchContent
	results []callResult
}

type callResult struct {
	writes []state.Write
	output []byte
	logs   []wasm.Log
}

// mergeWrites returns over applied on top of base: both sorted by key with
// one write per key, and so is the result.
func mergeWrites(base, over []state.Write) []state.Write {
	out := make([]state.Write, 0, len(base)+len(over))
	i, j := 0, 0
	for i < len(base) || j < len(over) {
		switch {
		case j == len(over) || (i < len(base) && bytes.Compare(base[i].Key, over[j].Key) < 0):
			out = append(out, base[i])
			i++
		case i == len(base) || bytes.Compare(base[i].Key, over[j].Key) > 0:
			out = append(out, over[j])
			j++
		default:
			out = append(out, over[j])
			i, j = i+1, j+1
		}
	}
	return slices.Clip(out)
}
