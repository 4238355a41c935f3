package blob

import (
	"encoding/binary"
	"math/bits"

	"lukechampine.com/blake3/guts"
)

// The BLAKE3 tree of a blob, cut at chunk groups.
//
// A blob of n bytes is split into groups of GroupSize bytes (the last one may
// be shorter; an empty blob is one empty group). Because GroupSize is a power
// of two number of BLAKE3 chunks, every group is a complete subtree of the
// standard BLAKE3 tree, and the tree above the groups is the usual
// left-balanced binary tree: the left child of a node covering k > 1 groups
// covers the largest power of two smaller than k. The root of that tree is
// the standard BLAKE3-256 hash, that is, the BlobId.
//
// The outboard is the Bao outboard encoding of that tree with chunk groups
// (byte-compatible with lukechampine.com/blake3/bao at group = groupLog): an
// 8-byte little-endian length followed by every parent node in pre-order, each
// as the 32-byte chaining values of its left and right child. Its size is
// 8 + 64·(groups−1).

// groupLog is log2 of the number of 1 KiB BLAKE3 chunks in a group.
const groupLog = 6

// GroupSize is the number of bytes in a chunk group, the unit of verification,
// of range-read amplification and of peer transfer (64 KiB; see
// docs/rationale/blob.md for the measurement behind it).
const GroupSize = guts.ChunkSize << groupLog

const (
	batchSize   = guts.MaxSIMD * guts.ChunkSize // bytes guts hashes in one SIMD call
	headerSize  = 8                             // outboard length prefix
	parentSize  = 64                            // one parent node: two chaining values
	maxTreeHigh = 64                            // a tree over at most 2^63 groups
)

// cv is a BLAKE3 chaining value.
type cv = [8]uint32

// Groups returns the number of chunk groups of a blob of the given size: one
// for an empty blob, otherwise ceil(size/GroupSize).
func Groups(size int64) int64 {
	if size <= 0 {
		return 1
	}
	return (size-1)/GroupSize + 1
}

// OutboardSize returns the length of the outboard of a blob of the given size.
func OutboardSize(size int64) int64 { return headerSize + parentSize*(Groups(size)-1) }

// groupLen returns the length of group index of a blob of the given size.
func groupLen(size, index int64) int {
	return int(min(size-index*GroupSize, GroupSize))
}

// leftGroups returns the number of groups under the left child of a node that
// covers n > 1 groups: the largest power of two smaller than n.
func leftGroups(n int64) int64 { return 1 << (bits.Len64(uint64(n-1)) - 1) }

// hasher hashes groups. Its scratch buffer holds a short final SIMD batch, so
// data passed in needs no spare capacity. The zero value is ready to use.
type hasher struct {
	scratch [batchSize]byte
}

// groupCV returns the chaining value of group index holding data. root is set
// for the group of a single-group blob, whose value is then the BLAKE3 hash.
func (h *hasher) groupCV(data []byte, index int64, root bool) cv {
	counter := uint64(index) << groupLog
	var stack [8]cv // a group has at most 2^(groupLog-4) batches
	var sc uint64
	// Each batch is copied to scratch before hashing: the SIMD code reads
	// the 16 chunks of a batch with a 1 KiB stride, which is faster from L1
	// than straight from memory (measured: ~20% for the whole hash).
	for len(data) > batchSize {
		copy(h.scratch[:], data[:batchSize])
		c := guts.ChainingValue(guts.CompressBuffer(&h.scratch, batchSize, &guts.IV, counter+sc*guts.MaxSIMD, 0))
		i := 0
		for ; sc&(1<<i) != 0; i++ {
			c = guts.ChainingValue(guts.ParentNode(stack[i], c, &guts.IV, 0))
		}
		stack[i] = c
		sc++
		data = data[batchSize:]
	}
	copy(h.scratch[:], data)
	last := &h.scratch
	n := guts.CompressBuffer(last, len(data), &guts.IV, counter+sc*guts.MaxSIMD, 0)
	for i := bits.TrailingZeros64(sc); i < bits.Len64(sc); i++ {
		if sc&(1<<i) != 0 {
			n = guts.ParentNode(stack[i], guts.ChainingValue(n), &guts.IV, 0)
		}
	}
	if root {
		n.Flags |= guts.FlagRoot
	}
	return guts.ChainingValue(n)
}

// parentCV returns the chaining value of the parent of l and r.
func parentCV(l, r cv, root bool) cv {
	var flags uint32
	if root {
		flags = guts.FlagRoot
	}
	return guts.ChainingValue(guts.ParentNode(l, r, &guts.IV, flags))
}

// buildOutboard returns the outboard of a blob of the given size whose group
// chaining values are leaves (the single leaf of a one-group blob is its
// root value), and the root chaining value.
func buildOutboard(size int64, leaves []cv) ([]byte, cv) {
	out := make([]byte, OutboardSize(size))
	binary.LittleEndian.PutUint64(out, uint64(size))
	var rec func(lv []cv, off int64, root bool) cv
	rec = func(lv []cv, off int64, root bool) cv {
		if len(lv) == 1 {
			return lv[0]
		}
		p := leftGroups(int64(len(lv)))
		l := rec(lv[:p], off+parentSize, false)
		r := rec(lv[p:], off+parentSize*p, false)
		putCV(out[off:], l)
		putCV(out[off+32:], r)
		return parentCV(l, r, root)
	}
	return out, rec(leaves, headerSize, true)
}

func putCV(b []byte, c cv) {
	for i, w := range c {
		binary.LittleEndian.PutUint32(b[4*i:], w)
	}
}

func getCV(b []byte) (c cv) {
	for i := range c {
		c[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return c
}

func hashCV(h [32]byte) cv { return getCV(h[:]) }

func cvHash(c cv) (h [32]byte) {
	putCV(h[:], c)
	return h
}
