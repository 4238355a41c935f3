package state

import (
	"fmt"
	"math/bits"

	"github.com/zeebo/blake3"

	"github.com/onvm-network/onvm/internal/id"
)

// Depth is the number of levels of the tree: one per bit of BLAKE3(key).
const Depth = 256

// EmptyRoot is the hash of an empty subtree at every level, and so the root
// of a program with no state: "onvm-smt-empty-onvm-smt-empty!!" and one zero
// byte.
var EmptyRoot = id.Hash([]byte("onvm-smt-empty-onvm-smt-empty!!\x00"))

// empty is EmptyRoot, addressable for the hash functions.
var empty = EmptyRoot

// Proof binds a key's value, or its absence, to a root.
type Proof struct {
	// Root is the root the proof was made against.
	Root id.Hash
	// Key is the user key, without any program scoping.
	Key []byte
	// Value is the key's value under Root; nil when Present is false. A
	// present key may have an empty value.
	Value []byte
	// Present reports whether Key is in the state under Root.
	Present bool
	// Siblings are the 256 sibling hashes along the key's path, ordered from
	// the leaf level (depth 255) up to the root (depth 0), as in the
	// original's proofs.
	Siblings [Depth]id.Hash
}

// Verify checks p against its own Root; see the package-level Verify.
func (p *Proof) Verify() error {
	return Verify(p.Root, p.Key, p.Value, p.Present, p.Siblings[:])
}

// Verify checks a membership proof (present: key holds value under root) or
// a non-membership proof (present false: key is absent; value is ignored)
// and returns nil or an error wrapping ErrInvalidProof. siblings must hold
// exactly 256 hashes ordered leaf level to root. It is pure and offline.
//
// Folding follows the tree's construction: the start is the leaf hash, or
// the empty constant for absence; a level whose node and sibling are both
// empty is empty (an empty set hashes to the constant, never to
// BLAKE3("node" ‖ empty ‖ empty)); every other level is an internal node.
func Verify(root id.Hash, key, value []byte, present bool, siblings []id.Hash) error {
	if len(siblings) != Depth {
		return fmt.Errorf("%w: %d siblings, want %d", ErrInvalidProof, len(siblings), Depth)
	}
	kh := id.Hash(blake3.Sum256(key))
	node := EmptyRoot
	if present {
		vh := id.Hash(blake3.Sum256(value))
		node = leafHash(&kh, &vh)
	}
	for i := range siblings {
		node = parent(&kh, Depth-1-i, &node, &siblings[i])
	}
	if node != root {
		return fmt.Errorf("%w: key %x folds to %s, not %s", ErrInvalidProof, key, node, root)
	}
	return nil
}

// parent returns the hash at depth d of the node whose child on path's side
// has hash child and whose other child has hash sib.
func parent(path *id.Hash, d int, child, sib *id.Hash) id.Hash {
	switch {
	case *child == EmptyRoot && *sib == EmptyRoot:
		return EmptyRoot
	case bit(path, d) == 0:
		return nodeHash(child, sib)
	default:
		return nodeHash(sib, child)
	}
}

// bit returns bit d (0 = most significant of byte 0) of h: the branch taken
// at depth d, 0 = left.
func bit(h *id.Hash, d int) int { return int(h[d>>3]>>(7-uint(d&7))) & 1 }

// chain returns the hash at depth top of a subtree whose hash at depth from
// (≥ top) is h and whose keys all lie on path, so that every level in
// between has an empty sibling.
func chain(h id.Hash, from, top int, path *id.Hash) id.Hash {
	for d := from - 1; d >= top; d-- {
		if bit(path, d) == 0 {
			h = nodeHash(&h, &empty)
		} else {
			h = nodeHash(&empty, &h)
		}
	}
	return h
}

// commonPrefix returns the number of leading bits a and b share, at most
// Depth.
func commonPrefix(a, b *id.Hash) int {
	for i := range a {
		if x := a[i] ^ b[i]; x != 0 {
			return 8*i + bits.LeadingZeros8(x)
		}
	}
	return Depth
}

// prefixOf returns the first n bits of h, the rest zeroed.
func prefixOf(h *id.Hash, n int) id.Hash {
	var p id.Hash
	copy(p[:n/8], h[:n/8])
	if r := n % 8; r != 0 {
		p[n/8] = h[n/8] & byte(0xff<<(8-r))
	}
	return p
}

// keyHash is kh = BLAKE3(key).
func keyHash(key []byte) id.Hash { return blake3.Sum256(key) }
