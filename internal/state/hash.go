package state

import (
	"encoding/binary"

	"github.com/zeebo/blake3"

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
// halves: the only input shape of the tree (leaf and internal nodes).
// github.com/zeebo/blake3 hashes one such message fastest of the measured
// options (its SSE4.1 compression; see BenchmarkRawHash and
// docs/rationale/state.md); runLanes hashes sixteen at once.
func hash68(tag uint32, a, b *id.Hash) id.Hash {
	var m [68]byte
	binary.LittleEndian.PutUint32(m[:], tag)
	copy(m[4:], a[:])
	copy(m[36:], b[:])
	return blake3.Sum256(m[:])
}

// nodeHash is the internal node hash: BLAKE3("node" ‖ left ‖ right).
func nodeHash(left, right *id.Hash) id.Hash { return hash68(tagNode, left, right) }

// leafHash is the leaf hash: BLAKE3("leaf" ‖ kh ‖ vh).
func leafHash(kh, vh *id.Hash) id.Hash { return hash68(tagLeaf, kh, vh) }
