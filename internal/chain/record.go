package chain

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/kv"
	"github.com/onvm-network/onvm/internal/state"
	"github.com/onvm-network/onvm/internal/wasm"
)

// Keys under "r/" (all ids raw 32 bytes, heights 8 bytes big-endian):
//
//	r/h/<program>           Head
//	r/t/<program><height>   the CertifiedReceipt (canonical bytes)
//	r/w/<program><height>   the ordered writes
//	r/o/<program><height>   output and logs, when this node has them
//	r/i/<receipt id>        <program><height>
//	r/q/<request id>        <program><height>
//	r/f/<program><height>   a finalized transition waiting for its predecessors
//	r/b/<program><batch>    a decided batch: its content and certificate
const (
	nsHead    = "r/h/"
	nsReceipt = "r/t/"
	nsWrites  = "r/w/"
	nsOutput  = "r/o/"
	nsByID    = "r/i/"
	nsByReq   = "r/q/"
	nsFuture  = "r/f/"
	nsBatch   = "r/b/"
)

func key(ns string, parts ...[]byte) []byte {
	k := []byte(ns)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func be(h uint64) []byte { return binary.BigEndian.AppendUint64(nil, h) }

func heightKey(ns string, p id.Program, h uint64) []byte { return key(ns, p[:], be(h)) }

// Head is a program's latest committed transition.
type Head struct {
	Height    uint64  `cbor:"1,keyasint" json:"height"`
	Root      id.Hash `cbor:"2,keyasint" json:"root"`
	Timestamp int64   `cbor:"3,keyasint" json:"timestamp_ms"` // logical time of the last transition; 0 at height 0
	Receipt   id.Hash `cbor:"4,keyasint" json:"receipt_id"`   // zero at height 0
	// Batch is the last batch of the committee's agreement applied whole
	// (a one-member committee's batches are its heights).
	Batch uint64 `cbor:"5,keyasint,omitempty" json:"batch"`
}

// Transition is a finalized state transition: what replicates between
// nodes. Writes are the effective writes in key order (state.WriteDigest of
// them is the receipt's write digest). Output is carried when known.
type Transition struct {
	Receipt   consensus.CertifiedReceipt
	Writes    []state.Write
	HasOutput bool
	Output    []byte
}

// wireTransition is Transition's canonical encoding.
type wireTransition struct {
	Receipt   consensus.CertifiedReceipt `cbor:"1,keyasint"`
	Writes    []wireWrite                `cbor:"2,keyasint"`
	HasOutput bool                       `cbor:"3,keyasint,omitempty"`
	Output    []byte                     `cbor:"4,keyasint,omitempty"`
}

type wireWrite struct {
	_      struct{} `cbor:",toarray"`
	Key    []byte
	Value  []byte
	Delete bool
}

type wireLog struct {
	_       struct{} `cbor:",toarray"`
	Source  string
	Level   uint8
	Message string
}

// outputRecord is the r/o/ value.
type outputRecord struct {
	Output []byte    `cbor:"1,keyasint"`
	Logs   []wireLog `cbor:"2,keyasint,omitempty"`
}

// MaxTransitionSize bounds a decoded transition.
const MaxTransitionSize = 16 << 20

// Encode returns the canonical encoding of t.
func (t *Transition) Encode() []byte {
	w := wireTransition{Receipt: t.Receipt, Writes: toWire(t.Writes), HasOutput: t.HasOutput}
	if t.HasOutput {
		w.Output = t.Output
	}
	return codec.MustMarshal(&w)
}

// DecodeTransition strictly decodes a transition from untrusted bytes. It
// checks the encoding only; ApplyFinalized verifies the content.
func DecodeTransition(b []byte) (*Transition, error) {
	if len(b) > MaxTransitionSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrInvalidTransition, len(b))
	}
	var w wireTransition
	if err := codec.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidTransition, err)
	}
	if (!w.HasOutput && w.Output != nil) || (w.Output != nil && len(w.Output) == 0) {
		return nil, fmt.Errorf("%w: output field not canonical", ErrInvalidTransition)
	}
	if err := w.Receipt.Check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidTransition, err)
	}
	for i, ww := range w.Writes {
		if ww.Delete && len(ww.Value) > 0 {
			return nil, fmt.Errorf("%w: write %d deletes with a value", ErrInvalidTransition, i)
		}
	}
	t := &Transition{Receipt: w.Receipt, Writes: fromWire(w.Writes), HasOutput: w.HasOutput, Output: w.Output}
	if t.HasOutput && t.Output == nil {
		t.Output = []byte{}
	}
	return t, nil
}

func toWire(ws []state.Write) []wireWrite {
	out := make([]wireWrite, len(ws))
	for i, w := range ws {
		out[i] = wireWrite{Key: nonNil(w.Key), Value: []byte{}, Delete: w.Delete}
		if !w.Delete {
			out[i].Value = nonNil(w.Value)
		}
	}
	return out
}

func fromWire(ws []wireWrite) []state.Write {
	out := make([]state.Write, len(ws))
	for i, w := range ws {
		out[i] = state.Write{Key: nonNil(w.Key), Value: w.Value, Delete: w.Delete}
		if w.Delete {
			out[i].Value = nil
		}
	}
	return out
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func logsToWire(ls []wasm.Log) []wireLog {
	out := make([]wireLog, len(ls))
	for i, l := range ls {
		out[i] = wireLog{Source: l.Source, Level: uint8(l.Level), Message: l.Message}
	}
	return out
}

func logsFromWire(ls []wireLog) []wasm.Log {
	out := make([]wasm.Log, len(ls))
	for i, l := range ls {
		out[i] = wasm.Log{Source: l.Source, Level: wasm.LogLevel(l.Level), Message: l.Message}
	}
	return out
}

// stage puts the records of a transition into b: receipt, writes, output
// (when known), the receipt and request indexes and the new head.
func stage(b *pebble.Batch, t *Transition, logs []wasm.Log, head Head) error {
	r := &t.Receipt.Receipt
	p, h := r.Program, r.Height
	loc := key("", p[:], be(h))
	rid := r.ID()
	sets := [][2][]byte{
		{heightKey(nsReceipt, p, h), t.Receipt.Encode()},
		{heightKey(nsWrites, p, h), codec.MustMarshal(toWire(t.Writes))},
		{key(nsByID, rid[:]), loc},
		{key(nsByReq, r.RequestID[:]), loc},
		{key(nsHead, p[:]), codec.MustMarshal(&head)},
	}
	if t.HasOutput {
		sets = append(sets, [2][]byte{heightKey(nsOutput, p, h),
			codec.MustMarshal(&outputRecord{Output: nonNil(t.Output), Logs: logsToWire(logs)})})
	}
	for _, kv := range sets {
		if err := b.Set(kv[0], kv[1], nil); err != nil {
			return fmt.Errorf("stage transition %s height %d: %w", p, h, err)
		}
	}
	return nil
}

// reader is a pebble database or batch.
type reader interface {
	Get(key []byte) ([]byte, io.Closer, error)
}

// decode reads k into v; ok false when absent.
func decode(r reader, k []byte, v any) (bool, error) {
	b, ok, err := kv.Get(r, k)
	if err != nil || !ok {
		return false, err
	}
	if err := codec.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%w: key %x: %v", ErrCorrupt, k, err)
	}
	return true, nil
}

// location decodes an index value: program and height.
func location(v []byte) (id.Program, uint64, error) {
	if len(v) != id.Size+8 {
		return id.Program{}, 0, fmt.Errorf("%w: index value of %d bytes", ErrCorrupt, len(v))
	}
	return id.Program(v[:id.Size]), binary.BigEndian.Uint64(v[id.Size:]), nil
}
