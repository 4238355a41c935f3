package dag

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/onvm-network/onvm/internal/id"
)

// VersionVector maps each author to the highest sequence accepted from it.
// Because a vertex is accepted only after its author's previous one, the
// accepted sequences of an author are always 1..VV[author]: contiguous.
type VersionVector map[id.Node]uint64

// VVEntry is one author's entry, the wire form of a version vector.
type VVEntry struct {
	Author id.Node `cbor:"1,keyasint" json:"author"`
	Seq    uint64  `cbor:"2,keyasint" json:"seq"`
}

// Entries returns the vector as entries sorted by author.
func (vv VersionVector) Entries() []VVEntry {
	out := make([]VVEntry, 0, len(vv))
	for a, s := range vv {
		out = append(out, VVEntry{Author: a, Seq: s})
	}
	slices.SortFunc(out, func(x, y VVEntry) int { return bytes.Compare(x.Author[:], y.Author[:]) })
	return out
}

// FromEntries builds a vector from entries, rejecting duplicates and zero
// sequences (an author with nothing accepted is simply absent).
func FromEntries(es []VVEntry) (VersionVector, error) {
	vv := make(VersionVector, len(es))
	for _, e := range es {
		if e.Seq == 0 {
			return nil, fmt.Errorf("version vector: author %s with sequence 0", e.Author)
		}
		if _, dup := vv[e.Author]; dup {
			return nil, fmt.Errorf("version vector: author %s twice", e.Author)
		}
		vv[e.Author] = e.Seq
	}
	return vv, nil
}

// Clone returns a copy.
func (vv VersionVector) Clone() VersionVector {
	out := make(VersionVector, len(vv))
	for a, s := range vv {
		out[a] = s
	}
	return out
}

// Covers reports whether vv has every vertex other has (by sequence).
func (vv VersionVector) Covers(other VersionVector) bool {
	for a, s := range other {
		if vv[a] < s {
			return false
		}
	}
	return true
}

// Missing returns how many vertices other has that vv lacks, by sequence.
func (vv VersionVector) Missing(other VersionVector) uint64 {
	var n uint64
	for a, s := range other {
		if mine := vv[a]; mine < s {
			n += s - mine
		}
	}
	return n
}
