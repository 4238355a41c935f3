package state

import (
	"bytes"
	"slices"

	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/id"
)

// Write is one change to a program's state.
type Write struct {
	// Key is the user key (any bytes, including empty).
	Key []byte
	// Value is the new value of Key; nil and empty both mean an empty value,
	// which is present. Ignored when Delete is set.
	Value []byte
	// Delete removes Key; deleting an absent key changes nothing.
	Delete bool
}

// digestWrite is the canonical form of one write inside WriteDigest: the
// CBOR array [key, value, delete], byte strings never null, a delete's value
// empty.
type digestWrite struct {
	_      struct{} `cbor:",toarray"`
	Key    []byte
	Value  []byte
	Delete bool
}

// WriteDigest returns BLAKE3 of the canonical (internal/codec) encoding of
// the effective writes: sorted by key bytewise, the last write of a repeated
// key kept, each as the array [key, value, delete] with byte strings never
// null and a delete's value empty. Receipts carry it, so it depends only on
// what the writes do, not on their order or on nil versus empty slices.
func WriteDigest(writes []Write) id.Hash {
	ws := make([]digestWrite, len(writes))
	for i, w := range writes {
		ws[i] = digestWrite{Key: append([]byte{}, w.Key...), Value: []byte{}, Delete: w.Delete}
		if !w.Delete {
			ws[i].Value = append([]byte{}, w.Value...)
		}
	}
	slices.SortStableFunc(ws, func(a, b digestWrite) int { return bytes.Compare(a.Key, b.Key) })
	out := ws[:0]
	for i := range ws {
		if i+1 < len(ws) && bytes.Equal(ws[i+1].Key, ws[i].Key) {
			continue
		}
		out = append(out, ws[i])
	}
	return id.Sum(codec.MustMarshal(out))
}
