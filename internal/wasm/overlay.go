package wasm

import (
	"bytes"
	"slices"
	"strings"
)

// WriteOverhead is what each key of a write set counts for besides its key
// and value bytes (see WriteSize): it bounds the number of writes, and it
// covers what a write costs to encode besides its bytes (a transition
// operation spends at most 15 bytes per write on CBOR framing).
const WriteOverhead = 32

// WriteSize is what one staged write of a key of keyLen bytes and a value
// of valueLen bytes (0 for a delete) counts for against Call.MaxWriteSet.
func WriteSize(keyLen, valueLen int) int { return keyLen + valueLen + WriteOverhead }

// WriteSetSize is the size of a write set (one write per key) as
// Call.MaxWriteSet counts it: the sum of WriteSize over its writes.
func WriteSetSize(ws []Write) int {
	n := 0
	for _, w := range ws {
		n += WriteSize(len(w.Key), len(w.Value))
	}
	return n
}

// overlay stages a call's state writes: last write per key wins, a delete is
// a tombstone. Reads consult it before committed state (notes §5.3). size
// is the WriteSetSize of what it holds, kept as writes replace each other.
type overlay struct {
	m    map[string]staged
	size int
}

type staged struct {
	value   []byte
	deleted bool
}

// sizeWith returns the overlay's size if key were staged with a value of
// valueLen bytes (0 for a delete), replacing its current write if any.
func (o *overlay) sizeWith(key []byte, valueLen int) int {
	n := o.size + WriteSize(len(key), valueLen)
	if e, ok := o.m[string(key)]; ok {
		n -= WriteSize(len(key), len(e.value))
	}
	return n
}

func (o *overlay) put(key, value []byte) { o.stage(key, staged{value: value}) }

func (o *overlay) del(key []byte) { o.stage(key, staged{deleted: true}) }

func (o *overlay) stage(key []byte, e staged) {
	if o.m == nil {
		o.m = make(map[string]staged)
	}
	o.size = o.sizeWith(key, len(e.value))
	o.m[string(key)] = e
}

func (o *overlay) get(key []byte) (staged, bool) {
	e, ok := o.m[string(key)]
	return e, ok
}

// writes returns the staged writes sorted by key bytes.
func (o *overlay) writes() []Write {
	if len(o.m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(o.m))
	for k := range o.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]Write, len(keys))
	for i, k := range keys {
		e := o.m[k]
		out[i] = Write{Key: []byte(k), Value: e.value, Delete: e.deleted}
		if !e.deleted && out[i].Value == nil {
			out[i].Value = []byte{}
		}
	}
	return out
}

// list merges committed keys (sorted) with the overlay: committed ∪ staged
// puts − staged deletes, all starting with prefix, sorted, without duplicates.
func (o *overlay) list(committed [][]byte, prefix []byte) [][]byte {
	out := make([][]byte, 0, len(committed))
	for _, k := range committed {
		if !bytes.HasPrefix(k, prefix) {
			continue // defensive: the reader should not return these
		}
		if e, ok := o.m[string(k)]; ok && e.deleted {
			continue
		}
		out = append(out, k)
	}
	for k, e := range o.m {
		if !e.deleted && strings.HasPrefix(k, string(prefix)) {
			out = append(out, []byte(k))
		}
	}
	slices.SortFunc(out, bytes.Compare)
	return slices.CompactFunc(out, bytes.Equal)
}
