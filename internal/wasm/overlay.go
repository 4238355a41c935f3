package wasm

import (
	"bytes"
	"slices"
	"strings"
)

// overlay stages a call's state writes: last write per key wins, a delete is
// a tombstone. Reads consult it before committed state (notes §5.3).
type overlay struct {
	m map[string]staged
}

type staged struct {
	value   []byte
	deleted bool
}

func (o *overlay) put(key, value []byte) {
	if o.m == nil {
		o.m = make(map[string]staged)
	}
	o.m[string(key)] = staged{value: value}
}

func (o *overlay) del(key []byte) {
	if o.m == nil {
		o.m = make(map[string]staged)
	}
	o.m[string(key)] = staged{deleted: true}
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
