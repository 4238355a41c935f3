package state

import (
	"encoding/binary"
	"fmt"

	"github.com/onvm-network/onvm/internal/id"
)

// Key layout under the store's "s/" prefix (p = 32-byte program id):
//
//	s/n/<p><h>     tree record whose subtree hashes to h at the depth its parent
//	               places it (the root at depth 0); immutable, content-addressed
//	s/k/<p><key>   latest value of key (the flat index for Get and List)
//	s/h/<p>        current root ‖ sequence number (uint64 BE) of the last Apply
//	s/r/<p><root>  sequence number of the Apply that committed root (history)
//	s/v            store format version
const (
	nsNode    = "s/n/"
	nsValue   = "s/k/"
	nsHead    = "s/h/"
	nsRoot    = "s/r/"
	keyFormat = "s/v"
)

// formatVersion is the layout described above.
const formatVersion = 1

func progKey(ns string, p id.Program, suffix []byte) []byte {
	k := make([]byte, 0, len(ns)+id.Size+len(suffix))
	k = append(k, ns...)
	k = append(k, p[:]...)
	return append(k, suffix...)
}

func nodeKey(p id.Program, h *id.Hash) []byte  { return progKey(nsNode, p, h[:]) }
func valueKey(p id.Program, key []byte) []byte { return progKey(nsValue, p, key) }
func headKey(p id.Program) []byte              { return progKey(nsHead, p, nil) }
func rootKey(p id.Program, r *id.Hash) []byte  { return progKey(nsRoot, p, r[:]) }

// Record kinds, the first byte of an encoded record.
const (
	kindLeaf   = 0
	kindBranch = 1
)

// record is one decoded tree record: a subtree holding a single key (leaf)
// or a branching node (both children non-empty). Records are immutable once
// built; the cache shares them between goroutines.
type record struct {
	// split is the depth at which the subtree branches: Depth for a leaf.
	split int
	// path holds the bits every key of the subtree shares: kh for a leaf,
	// the first split bits (the rest zero) for a branch.
	path id.Hash
	// lh is a leaf's hash, BLAKE3("leaf" ‖ kh ‖ vh).
	lh id.Hash

	// Leaf fields.
	key, value []byte

	// Branch fields: the children's hashes at depth split+1, which are also
	// their records' keys.
	left, right id.Hash
}

func (r *record) leaf() bool { return r.split == Depth }

// encode returns the stored form:
//
//	leaf:   0x00 ‖ leafhash[32] ‖ uvarint(len key) ‖ key ‖ value
//	branch: 0x01 ‖ split[1] ‖ path[ceil(split/8)] ‖ left[32] ‖ right[32]
func (r *record) encode() []byte {
	if r.leaf() {
		b := make([]byte, 0, 1+id.Size+binary.MaxVarintLen64+len(r.key)+len(r.value))
		b = append(b, kindLeaf)
		b = append(b, r.lh[:]...)
		b = binary.AppendUvarint(b, uint64(len(r.key)))
		b = append(b, r.key...)
		return append(b, r.value...)
	}
	n := (r.split + 7) / 8
	b := make([]byte, 0, 2+n+2*id.Size)
	b = append(b, kindBranch, byte(r.split))
	b = append(b, r.path[:n]...)
	b = append(b, r.left[:]...)
	return append(b, r.right[:]...)
}

// decodeRecord parses a stored record strictly (exactly one encoding per
// record) and copies what it keeps out of b. It never panics.
func decodeRecord(b []byte) (*record, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty record", ErrCorrupt)
	}
	switch b[0] {
	case kindLeaf:
		if len(b) < 1+id.Size+1 {
			return nil, fmt.Errorf("%w: short leaf record (%d bytes)", ErrCorrupt, len(b))
		}
		r := &record{split: Depth}
		copy(r.lh[:], b[1:])
		rest := b[1+id.Size:]
		n, w := binary.Uvarint(rest)
		if w <= 0 || w != uvarintLen(n) {
			return nil, fmt.Errorf("%w: bad key length in leaf record", ErrCorrupt)
		}
		rest = rest[w:]
		if n > uint64(len(rest)) {
			return nil, fmt.Errorf("%w: leaf key length %d exceeds record", ErrCorrupt, n)
		}
		r.key = append([]byte{}, rest[:n]...)
		r.value = append([]byte{}, rest[n:]...)
		r.path = keyHash(r.key)
		return r, nil
	case kindBranch:
		if len(b) < 2 {
			return nil, fmt.Errorf("%w: short branch record", ErrCorrupt)
		}
		r := &record{split: int(b[1])}
		n := (r.split + 7) / 8
		if len(b) != 2+n+2*id.Size {
			return nil, fmt.Errorf("%w: branch record of %d bytes, want %d", ErrCorrupt, len(b), 2+n+2*id.Size)
		}
		copy(r.path[:], b[2:2+n])
		if prefixOf(&r.path, r.split) != r.path {
			return nil, fmt.Errorf("%w: branch path has bits past its split", ErrCorrupt)
		}
		copy(r.left[:], b[2+n:])
		copy(r.right[:], b[2+n+id.Size:])
		if r.left == EmptyRoot || r.right == EmptyRoot {
			return nil, fmt.Errorf("%w: branch with an empty child", ErrCorrupt)
		}
		return r, nil
	default:
		return nil, fmt.Errorf("%w: unknown record kind %d", ErrCorrupt, b[0])
	}
}

func uvarintLen(n uint64) int {
	var buf [binary.MaxVarintLen64]byte
	return binary.PutUvarint(buf[:], n)
}

// newLeaf returns the record of a single key.
func newLeaf(kh *id.Hash, key, value []byte) *record {
	vh := keyHash(value)
	return &record{split: Depth, path: *kh, lh: leafHash(kh, &vh), key: key, value: value}
}

// baseHash returns the subtree's hash at depth split: the leaf hash, or
// internal(left, right) for a branch.
func (r *record) baseHash() id.Hash {
	if r.leaf() {
		return r.lh
	}
	return nodeHash(&r.left, &r.right)
}
