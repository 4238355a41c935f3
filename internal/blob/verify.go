package blob

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/onvm-network/onvm/internal/id"
)

// This file holds the pure verifiers: they check untrusted outboards and
// groups against a BlobId alone, do no I/O of their own and never panic on
// any input.

// EncodeOutboard returns the id and the outboard of data. It holds data in
// memory; the store computes the same outboard while streaming.
func EncodeOutboard(data []byte) (id.Blob, []byte) {
	size := int64(len(data))
	n := Groups(size)
	leaves := make([]cv, n)
	var h hasher
	for i := range n {
		g := data[i*GroupSize : i*GroupSize+int64(groupLen(size, i))]
		leaves[i] = h.groupCV(g, i, n == 1)
	}
	ob, root := buildOutboard(size, leaves)
	return id.Blob(cvHash(root)), ob
}

// checkHeader checks that outboard has the length and the length prefix of
// the outboard of a blob of the given size.
func checkHeader(b id.Blob, size int64, outboard []byte) error {
	if size < 0 {
		return fmt.Errorf("verify outboard %s: negative size %d: %w", b, size, ErrCorrupt)
	}
	if int64(len(outboard)) != OutboardSize(size) {
		return fmt.Errorf("verify outboard %s: %d bytes, want %d for size %d: %w",
			b, len(outboard), OutboardSize(size), size, ErrCorrupt)
	}
	if got := binary.LittleEndian.Uint64(outboard); got != uint64(size) {
		return fmt.Errorf("verify outboard %s: encodes size %d, want %d: %w", b, got, size, ErrCorrupt)
	}
	return nil
}

// VerifyOutboard checks that outboard is the complete, consistent tree of a
// blob with id b and the given size: every parent node hashes to the value
// its parent holds, up to b. It does not prove the size by itself (an
// attacker who knows the tree can forge a consistent outboard for another
// size, under which no data will ever verify); a verified last group does.
func VerifyOutboard(b id.Blob, size int64, outboard []byte) error {
	_, err := verifyTree(b, size, outboard, false)
	return err
}

// verifyTree checks outboard as VerifyOutboard does and, if collect is set,
// returns the verified chaining value of every group. The number of groups
// is bounded by len(outboard)/64+1, so a forged size cannot make it allocate
// more than the caller already holds.
func verifyTree(b id.Blob, size int64, outboard []byte, collect bool) ([]cv, error) {
	if err := checkHeader(b, size, outboard); err != nil {
		return nil, err
	}
	var leaves []cv
	if collect {
		leaves = make([]cv, 0, Groups(size))
	}
	var rec func(want cv, n, off int64, root bool) bool
	rec = func(want cv, n, off int64, root bool) bool {
		if n == 1 {
			if collect {
				leaves = append(leaves, want)
			}
			return true
		}
		l, r := getCV(outboard[off:]), getCV(outboard[off+32:])
		if parentCV(l, r, root) != want {
			return false
		}
		p := leftGroups(n)
		return rec(l, p, off+parentSize, false) && rec(r, n-p, off+parentSize*p, false)
	}
	if !rec(hashCV(b), Groups(size), headerSize, true) {
		return nil, fmt.Errorf("verify outboard %s: tree does not hash to the id: %w", b, ErrCorrupt)
	}
	return leaves, nil
}

// VerifyGroup checks data as group index of the blob b of the given size,
// using only the path from the root to that group in outboard (the rest of
// outboard is not read). Any flipped bit in data or in that path yields
// ErrCorrupt.
func VerifyGroup(b id.Blob, size int64, outboard []byte, index int, data []byte) error {
	if err := checkHeader(b, size, outboard); err != nil {
		return err
	}
	v := newPath(b, size, sliceNodes(outboard))
	var h hasher
	return v.verify(&h, int64(index), data)
}

// nodeSource reads the 64 bytes of the parent node at off in the outboard.
type nodeSource func(off int64, p *[parentSize]byte) error

func sliceNodes(outboard []byte) nodeSource {
	return func(off int64, p *[parentSize]byte) error {
		if off < 0 || off+parentSize > int64(len(outboard)) {
			return io.ErrUnexpectedEOF
		}
		copy(p[:], outboard[off:])
		return nil
	}
}

// path verifies groups against the root by walking the outboard from the
// root down. It keeps the nodes verified on the last walk, so a sequential
// reader re-reads and re-hashes almost nothing above its groups. Not safe for
// concurrent use.
type path struct {
	id     id.Blob
	size   int64
	groups int64
	nodes  nodeSource
	depth  int                   // entries of stack that are valid
	stack  [maxTreeHigh]pathStep // stack[0] is the root
	node   [parentSize]byte      // scratch for reading a node
}

// pathStep is a verified subtree: the groups [lo, lo+n), the offset of its
// parent node in the outboard and its chaining value.
type pathStep struct {
	lo, n, off int64
	cv         cv
}

func newPath(b id.Blob, size int64, nodes nodeSource) *path {
	p := &path{id: b, size: size, groups: Groups(size), nodes: nodes, depth: 1}
	p.stack[0] = pathStep{lo: 0, n: p.groups, off: headerSize, cv: hashCV(b)}
	return p
}

// leaf returns the verified chaining value of group index.
func (p *path) leaf(index int64) (cv, error) {
	d := p.depth - 1
	for d > 0 && (index < p.stack[d].lo || index >= p.stack[d].lo+p.stack[d].n) {
		d--
	}
	node := &p.node
	for {
		s := p.stack[d]
		if s.n == 1 {
			p.depth = d + 1
			return s.cv, nil
		}
		if err := p.nodes(s.off, node); err != nil {
			p.depth = d + 1
			return cv{}, fmt.Errorf("read tree of %s at %d: %w", p.id, s.off, err)
		}
		l, r := getCV(node[:32]), getCV(node[32:])
		if parentCV(l, r, d == 0) != s.cv {
			p.depth = d + 1
			return cv{}, fmt.Errorf("tree of %s at %d: %w", p.id, s.off, ErrCorrupt)
		}
		half := leftGroups(s.n)
		if index < s.lo+half {
			p.stack[d+1] = pathStep{lo: s.lo, n: half, off: s.off + parentSize, cv: l}
		} else {
			p.stack[d+1] = pathStep{lo: s.lo + half, n: s.n - half, off: s.off + parentSize*half, cv: r}
		}
		d++
	}
}

// verify checks data as group index.
func (p *path) verify(h *hasher, index int64, data []byte) error {
	if index < 0 || index >= p.groups {
		return fmt.Errorf("verify group %d of %s: out of range [0, %d): %w", index, p.id, p.groups, ErrCorrupt)
	}
	if want := groupLen(p.size, index); len(data) != want {
		return fmt.Errorf("verify group %d of %s: %d bytes, want %d: %w", index, p.id, len(data), want, ErrCorrupt)
	}
	want, err := p.leaf(index)
	if err != nil {
		return err
	}
	if h.groupCV(data, index, p.groups == 1) != want {
		return fmt.Errorf("verify group %d of %s: %w", index, p.id, ErrCorrupt)
	}
	return nil
}
