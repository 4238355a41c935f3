package state

import (
	"encoding/binary"
	"fmt"

	"github.com/onvm-network/onvm/internal/id"
)

// Key layout under the store's "s/" prefix (p = 32-byte program id):
//
//	s/n/<p><h>     tree record (branch, or a lone leaf at the root) whose
//	               subtree hashes to h at the depth its parent places it (the
//	               root at depth 0); immutable, content-addressed
//	s/l/<p><lh>    key and value of the leaf whose leaf hash is lh; immutable
//	s/k/<p><key>   latest value of key (the flat index for Get and List)
//	s/h/<p>        current root ‖ sequence number (uint64 BE) of the last Apply
//	s/r/<p><root>  sequence number of the Apply that committed root (history)
//	s/v            store format version
const (
	nsNode    = "s/n/"
	nsLeaf    = "s/l/"
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

// putProgKey writes ns ‖ p ‖ suffix into k, which has exactly that length.
func putProgKey(k []byte, ns string, p id.Program, suffix []byte) {
	n := copy(k, ns)
	n += copy(k[n:], p[:])
	copy(k[n:], suffix)
}

func leafKey(p id.Program, lh *id.Hash) []byte { return progKey(nsLeaf, p, lh[:]) }
func valueKey(p id.Program, key []byte) []byte { return progKey(nsValue, p, key) }
func headKey(p id.Program) []byte              { return progKey(nsHead, p, nil) }
func rootKey(p id.Program, r *id.Hash) []byte  { return progKey(nsRoot, p, r[:]) }

// Tree record kinds, the first byte of an encoded tree record.
const (
	kindBranch   = 1
	kindRootLeaf = 2
)

// record is a subtree of the path-compressed trie: a single key (leaf) or a
// branching node (both children non-empty). Records are immutable once
// built; the cache shares them between goroutines.
type record struct {
	// split is the depth at which the subtree branches: Depth for a leaf.
	split int
	// path holds the bits every key of the subtree shares: kh for a leaf,
	// the first split bits (the rest zero) for a branch.
	path id.Hash

	// lh is a leaf's hash, BLAKE3("leaf" ‖ kh ‖ vh).
	lh id.Hash
	// key and value of a leaf, set only for a new leaf (a stored leaf's
	// key and value are read only by Prove).
	key, value []byte

	// kids of a branch, left (bit split = 0) then right.
	kids [2]child
}

// child is what a branch knows of a child subtree: its hash at depth
// split+1, which is also its record's key; for a single-key child also the
// key hash and leaf hash, so that updates never read leaf records.
type child struct {
	h      id.Hash
	leaf   bool
	kh, lh id.Hash
}

func (r *record) leaf() bool { return r.split == Depth }

// baseHash returns the subtree's hash at depth split: the leaf hash, or
// internal(left, right) for a branch.
func (r *record) baseHash() id.Hash {
	if r.leaf() {
		return r.lh
	}
	return nodeHash(&r.kids[0].h, &r.kids[1].h)
}

// newLeaf returns the record of a single key.
func newLeaf(kh *id.Hash, key, value []byte) *record {
	vh := keyHash(value)
	return &record{split: Depth, path: *kh, lh: leafHash(kh, &vh), key: key, value: value}
}

// leafOf returns the record of a stored leaf known from its parent.
func leafOf(kh, lh *id.Hash) *record { return &record{split: Depth, path: *kh, lh: *lh} }

// encode returns a tree record's stored form:
//
//	branch:    0x01 ‖ split[1] ‖ path[ceil(split/8)] ‖ flags[1] ‖ left ‖ right
//	           where a child is h[32], followed by kh[32] ‖ lh[32] when it
//	           is a single key (flags bit 0 for left, bit 1 for right)
//	root leaf: 0x02 ‖ kh[32] ‖ lh[32]   (a tree of exactly one key)
func (r *record) encode() []byte { return r.appendTo(make([]byte, 0, r.encodedLen())) }

// encodedLen is len(r.encode()).
func (r *record) encodedLen() int {
	if r.leaf() {
		return 1 + 2*id.Size
	}
	n := 3 + (r.split+7)/8 + 2*id.Size
	for i := range r.kids {
		if r.kids[i].leaf {
			n += 2 * id.Size
		}
	}
	return n
}

// appendTo appends r's encoding to b.
func (r *record) appendTo(b []byte) []byte {
	if r.leaf() {
		b = append(b, kindRootLeaf)
		b = append(b, r.path[:]...)
		return append(b, r.lh[:]...)
	}
	b = append(b, kindBranch, byte(r.split))
	b = append(b, r.path[:(r.split+7)/8]...)
	var flags byte
	for i := range r.kids {
		if r.kids[i].leaf {
			flags |= 1 << i
		}
	}
	b = append(b, flags)
	for i := range r.kids {
		k := &r.kids[i]
		b = append(b, k.h[:]...)
		if k.leaf {
			b = append(b, k.kh[:]...)
			b = append(b, k.lh[:]...)
		}
	}
	return b
}

// decodeRecord parses a stored tree record strictly (exactly one encoding
// per record) and checks what it can without hashing. It never panics.
func decodeRecord(b []byte) (*record, error) {
	r := &record{}
	if err := decodeRecordInto(b, r); err != nil {
		return nil, err
	}
	return r, nil
}

// decodeRecordInto is decodeRecord into r, which it overwrites.
func decodeRecordInto(b []byte, r *record) error {
	if len(b) == 0 {
		return fmt.Errorf("%w: empty record", ErrCorrupt)
	}
	switch b[0] {
	case kindRootLeaf:
		if len(b) != 1+2*id.Size {
			return fmt.Errorf("%w: root leaf record of %d bytes", ErrCorrupt, len(b))
		}
		*r = record{split: Depth, path: id.Hash(b[1:]), lh: id.Hash(b[1+id.Size:])}
		return nil
	case kindBranch:
		if len(b) < 3 {
			return fmt.Errorf("%w: short branch record", ErrCorrupt)
		}
		*r = record{split: int(b[1])}
		n := (r.split + 7) / 8
		if len(b) < 3+n {
			return fmt.Errorf("%w: short branch record", ErrCorrupt)
		}
		copy(r.path[:], b[2:2+n])
		if prefixOf(&r.path, r.split) != r.path {
			return fmt.Errorf("%w: branch path has bits past its split", ErrCorrupt)
		}
		flags := b[2+n]
		if flags > 3 {
			return fmt.Errorf("%w: branch flags %#x", ErrCorrupt, flags)
		}
		rest := b[3+n:]
		for i := range r.kids {
			k := &r.kids[i]
			k.leaf = flags&(1<<i) != 0
			size := id.Size
			if k.leaf {
				size = 3 * id.Size
			}
			if len(rest) < size {
				return fmt.Errorf("%w: short branch record", ErrCorrupt)
			}
			k.h = id.Hash(rest)
			if k.h == EmptyRoot {
				return fmt.Errorf("%w: branch with an empty child", ErrCorrupt)
			}
			if k.leaf {
				k.kh = id.Hash(rest[id.Size:])
				k.lh = id.Hash(rest[2*id.Size:])
				if commonPrefix(&k.kh, &r.path) < r.split || bit(&k.kh, r.split) != i {
					return fmt.Errorf("%w: leaf child off its branch's path", ErrCorrupt)
				}
			}
			rest = rest[size:]
		}
		if len(rest) != 0 {
			return fmt.Errorf("%w: %d trailing bytes in branch record", ErrCorrupt, len(rest))
		}
		return nil
	default:
		return fmt.Errorf("%w: unknown record kind %d", ErrCorrupt, b[0])
	}
}

// encodeLeafValue returns the stored form of a leaf's key and value:
// uvarint(len key) ‖ key ‖ value.
func encodeLeafValue(key, value []byte) []byte {
	return appendLeafValue(make([]byte, 0, leafValueLen(key, value)), key, value)
}

// leafValueLen is len(encodeLeafValue(key, value)).
func leafValueLen(key, value []byte) int {
	return uvarintLen(uint64(len(key))) + len(key) + len(value)
}

// appendLeafValue appends encodeLeafValue(key, value) to b.
func appendLeafValue(b, key, value []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	return append(b, value...)
}

// decodeLeafValue parses encodeLeafValue's output strictly, copying out of
// b. It never panics.
func decodeLeafValue(b []byte) (key, value []byte, err error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || w != uvarintLen(n) {
		return nil, nil, fmt.Errorf("%w: bad key length in leaf", ErrCorrupt)
	}
	b = b[w:]
	if n > uint64(len(b)) {
		return nil, nil, fmt.Errorf("%w: leaf key length %d exceeds record", ErrCorrupt, n)
	}
	return append([]byte{}, b[:n]...), append([]byte{}, b[n:]...), nil
}

func uvarintLen(n uint64) int {
	var buf [binary.MaxVarintLen64]byte
	return binary.PutUvarint(buf[:], n)
}
