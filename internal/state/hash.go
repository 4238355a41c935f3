package state

import (
	"encoding/binary"

	"github.com/onvm-network/onvm/internal/id"
)

//go:generate go run gen_hash.go

// The 4-byte domain tags of the tree's two hashed shapes, read as the first
// little-endian message word.
var (
	tagLeaf = binary.LittleEndian.Uint32([]byte("leaf"))
	tagNode = binary.LittleEndian.Uint32([]byte("node"))
)

// hash68 returns BLAKE3(tag ‖ a ‖ b) for a 4-byte tag and two 32-byte
// halves: the only input shape of the tree (leaf and internal nodes). It is
// the standard BLAKE3-256 digest of that 68-byte message, computed with the
// two block compressions unrolled for this fixed layout (hash_gen.go);
// TestHash68MatchesBLAKE3 pins it to github.com/zeebo/blake3.
func hash68(tag uint32, a, b *id.Hash) id.Hash {
	var m [16]uint32
	m[0] = tag
	for i := 0; i < 8; i++ {
		m[1+i] = binary.LittleEndian.Uint32(a[4*i:])
	}
	for i := 0; i < 7; i++ {
		m[9+i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	c0, c1, c2, c3, c4, c5, c6, c7 := compressFirst(&m)
	o := compressLast(c0, c1, c2, c3, c4, c5, c6, c7, binary.LittleEndian.Uint32(b[28:]))
	var out id.Hash
	for i, w := range o {
		binary.LittleEndian.PutUint32(out[4*i:], w)
	}
	return out
}

// nodeHash is the internal node hash: BLAKE3("node" ‖ left ‖ right).
func nodeHash(left, right *id.Hash) id.Hash { return hash68(tagNode, left, right) }

// leafHash is the leaf hash: BLAKE3("leaf" ‖ kh ‖ vh).
func leafHash(kh, vh *id.Hash) id.Hash { return hash68(tagLeaf, kh, vh) }
