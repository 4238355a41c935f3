package replica

import (
	"bytes"
	"fmt"
	"math"
	"testing"

	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/state"
	"github.com/onvm-network/onvm/internal/wasm"
)

// worstReceipt is a certified receipt as large as one can be: every
// integer at its widest encoding, every hash non-zero, the longest path,
// the signer bitmap of the largest committee.
func worstReceipt() consensus.CertifiedReceipt {
	h := id.Sum([]byte("x"))
	r := consensus.Receipt{
		Program: id.Program(h), Height: math.MaxUint64, StateRootIn: h, StateRootOut: h, InputHash: h,
		RequestID: h, FuelUsed: math.MaxUint64, WriteDigest: h, OutputHash: h, CodeHash: h, EnvHash: h,
		Timestamp: math.MinInt64, Executor: id.Node(h), Epoch: math.MaxUint64,
	}
	a := consensus.CertifiedReceipt{Receipt: r, Index: consensus.MaxBatch - 1, Count: consensus.MaxBatch, Path: make([]id.Hash, consensus.MaxPath)}
	for i := range a.Path {
		a.Path[i] = h
	}
	a.Certificate = consensus.Certificate{
		Ballot:  consensus.Ballot{Program: r.Program, Epoch: r.Epoch, Height: math.MaxUint64, Round: consensus.MaxRound, Step: consensus.StepPrecommit, Value: h},
		Signers: bytes.Repeat([]byte{0xff}, consensus.MaxBitmapLength),
	}
	for i := range a.Certificate.Signature {
		a.Certificate.Signature[i] = 0xff
	}
	return a
}

// writeSet builds a write set of one shape as large as limit allows:
// distinct keys of keyLen bytes (a big-endian counter, so in ascending
// order) with values of valueLen bytes, or deletes; the last write's value
// takes what is left so that the set is exactly at the limit.
func writeSet(t *testing.T, limit, keyLen, valueLen int, del bool) []state.Write {
	t.Helper()
	if del {
		valueLen = 0
	}
	n := limit / wasm.WriteSize(keyLen, valueLen)
	if keyLen < 8 && n > 1<<(8*keyLen) {
		n = 1 << (8 * keyLen) // as many distinct keys as there are
	}
	ws := make([]state.Write, n)
	for i := range ws {
		k := make([]byte, keyLen)
		for j, v := keyLen-1, i; j >= 0 && v > 0; j, v = j-1, v>>8 {
			k[j] = byte(v)
		}
		ws[i] = state.Write{Key: k, Value: make([]byte, valueLen), Delete: del}
	}
	last := &ws[n-1]
	if rest := limit - n*wasm.WriteSize(keyLen, valueLen); rest > 0 {
		last.Delete, last.Value = false, make([]byte, len(last.Value)+rest)
	}
	return ws
}

func wasmWrites(ws []state.Write) []wasm.Write {
	out := make([]wasm.Write, len(ws))
	for i, w := range ws {
		out[i] = wasm.Write{Key: w.Key, Value: w.Value, Delete: w.Delete}
	}
	return out
}

// TestTransitionAtWriteSetLimitIsPublishable proves the engine's write-set
// limit keeps every transition publishable: for the worst shapes of write
// set at chain.MaxWriteSet — many tiny writes, tiny deletes, few huge
// values, one huge key, sizes at every CBOR length-header boundary — the
// transition operation with the largest possible certified receipt
// encodes within dag.MaxOpSize and decodes as a peer would. Without the
// limit a guest's writes could exceed the operation: the bound is needed.
func TestTransitionAtWriteSetLimitIsPublishable(t *testing.T) {
	const limit = chain.MaxWriteSet
	type shape struct {
		keyLen, valueLen int
		del              bool
	}
	shapes := []shape{
		{0, limit - wasm.WriteOverhead, false},      // the empty key, one huge value
		{limit - wasm.WriteOverhead, 0, false},      // one huge key
		{1, 65536, false},                           // few large values (5-byte headers)
		{1, 0, false}, {2, 0, false}, {3, 0, false}, // many tiny puts
		{2, 0, true}, {3, 0, true}, // many tiny deletes
	}
	for _, k := range []int{2, 3, 23, 24, 255, 256} { // around the CBOR header sizes
		for _, v := range []int{1, 23, 24, 255, 256, 65535} {
			shapes = append(shapes, shape{k, v, false})
		}
	}
	rc := worstReceipt()
	largest := 0
	for _, s := range shapes {
		t.Run(fmt.Sprintf("key%d/value%d/delete=%v", s.keyLen, s.valueLen, s.del), func(t *testing.T) {
			ws := writeSet(t, limit, s.keyLen, s.valueLen, s.del)
			if size := wasm.WriteSetSize(wasmWrites(ws)); size > limit {
				t.Fatalf("write set of %d bytes, above the limit", size)
			}
			o, err := toOp(&chain.Transition{Receipt: rc, Writes: ws}).Op()
			if err != nil {
				t.Fatalf("%d writes at the limit cannot be published: %v", len(ws), err)
			}
			if len(o.Body) > dag.MaxOpSize {
				t.Fatalf("operation of %d bytes, above %d", len(o.Body), dag.MaxOpSize)
			}
			largest = max(largest, len(o.Body))
			got, err := op.DecodeTransition(o)
			if err != nil || len(got.Writes) != len(ws) {
				t.Fatalf("a peer would refuse it: %v", err)
			}
		})
	}
	t.Logf("largest transition at the %d-byte write-set limit: %d bytes (dag.MaxOpSize %d)", limit, largest, dag.MaxOpSize)

	t.Run("without the limit a transition is unpublishable", func(t *testing.T) {
		ws := writeSet(t, wasm.WriteSize(0, dag.MaxOpSize), 0, dag.MaxOpSize, false)
		if _, err := toOp(&chain.Transition{Receipt: rc, Writes: ws}).Op(); err == nil {
			t.Fatal("a value of dag.MaxOpSize bytes encodes within dag.MaxOpSize")
		}
	})
}
