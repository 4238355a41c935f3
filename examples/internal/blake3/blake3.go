// Package blake3 is a small, portable BLAKE3-256 for the sample programs.
//
// github.com/zeebo/blake3 (used by the node) adds ~940 KB to a wasip1
// module and runs CPU-feature detection and fmt initialisation in every
// instance; this package adds a few kilobytes and has no init. It computes
// only the default 32-byte hash, with no SIMD and no parallelism, and must
// stay that simple: it is not for use by the node.
package blake3

import "math/bits"

const (
	blockLen = 64
	chunkLen = 1024

	flagChunkStart = 1 << 0
	flagChunkEnd   = 1 << 1
	flagParent     = 1 << 2
	flagRoot       = 1 << 3
)

var iv = [8]uint32{
	0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
	0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
}

var schedule = [7][16]uint8{
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8},
	{3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1},
	{10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6},
	{12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4},
	{9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7},
	{11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13},
}

func g(v *[16]uint32, a, b, c, d int, x, y uint32) {
	v[a] += v[b] + x
	v[d] = bits.RotateLeft32(v[d]^v[a], -16)
	v[c] += v[d]
	v[b] = bits.RotateLeft32(v[b]^v[c], -12)
	v[a] += v[b] + y
	v[d] = bits.RotateLeft32(v[d]^v[a], -8)
	v[c] += v[d]
	v[b] = bits.RotateLeft32(v[b]^v[c], -7)
}

// compress returns the first 8 words of the compression function output.
func compress(cv *[8]uint32, block *[16]uint32, counter uint64, blockLen, flags uint32) [8]uint32 {
	v := [16]uint32{
		cv[0], cv[1], cv[2], cv[3], cv[4], cv[5], cv[6], cv[7],
		iv[0], iv[1], iv[2], iv[3],
		uint32(counter), uint32(counter >> 32), blockLen, flags,
	}
	for _, s := range schedule {
		m := func(i int) uint32 { return block[s[i]] }
		g(&v, 0, 4, 8, 12, m(0), m(1))
		g(&v, 1, 5, 9, 13, m(2), m(3))
		g(&v, 2, 6, 10, 14, m(4), m(5))
		g(&v, 3, 7, 11, 15, m(6), m(7))
		g(&v, 0, 5, 10, 15, m(8), m(9))
		g(&v, 1, 6, 11, 12, m(10), m(11))
		g(&v, 2, 7, 8, 13, m(12), m(13))
		g(&v, 3, 4, 9, 14, m(14), m(15))
	}
	var out [8]uint32
	for i := range out {
		out[i] = v[i] ^ v[i+8]
	}
	return out
}

// le32 reads a little-endian uint32 (encoding/binary would link reflect).
func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func words(b []byte) (w [16]uint32) {
	var buf [blockLen]byte
	copy(buf[:], b)
	for i := range w {
		w[i] = le32(buf[4*i:])
	}
	return w
}

// output is a compression whose flags may still gain flagRoot.
type output struct {
	cv      [8]uint32
	block   [16]uint32
	counter uint64
	len     uint32
	flags   uint32
}

func (o output) chainingValue() [8]uint32 {
	return compress(&o.cv, &o.block, o.counter, o.len, o.flags)
}

// chunk returns the output of the last block of chunk number counter.
func chunk(data []byte, counter uint64) output {
	cv := iv
	flags := uint32(flagChunkStart)
	for len(data) > blockLen {
		b := words(data[:blockLen])
		cv = compress(&cv, &b, counter, blockLen, flags)
		data = data[blockLen:]
		flags = 0
	}
	return output{cv: cv, block: words(data), counter: counter, len: uint32(len(data)), flags: flags | flagChunkEnd}
}

func parent(left, right [8]uint32) output {
	var b [16]uint32
	copy(b[:8], left[:])
	copy(b[8:], right[:])
	return output{cv: iv, block: b, len: blockLen, flags: flagParent}
}

// Sum256 returns the BLAKE3-256 digest of data.
func Sum256(data []byte) [32]byte {
	// The tree: chunks are merged pairwise as soon as the count of completed
	// chunks allows, exactly as the reference implementation's CV stack.
	var stack [][8]uint32
	var counter uint64
	for len(data) > chunkLen {
		cv := chunk(data[:chunkLen], counter).chainingValue()
		counter++
		for total := counter; total&1 == 0; total >>= 1 {
			cv = parent(stack[len(stack)-1], cv).chainingValue()
			stack = stack[:len(stack)-1]
		}
		stack = append(stack, cv)
		data = data[chunkLen:]
	}
	out := chunk(data, counter)
	for i := len(stack) - 1; i >= 0; i-- {
		out = parent(stack[i], out.chainingValue())
	}
	w := compress(&out.cv, &out.block, out.counter, out.len, out.flags|flagRoot)
	var d [32]byte
	for i, x := range w {
		d[4*i], d[4*i+1], d[4*i+2], d[4*i+3] = byte(x), byte(x>>8), byte(x>>16), byte(x>>24)
	}
	return d
}

// Hex returns the lowercase hex BLAKE3-256 digest of data. (encoding/hex
// would link fmt and os into every module.)
func Hex(data []byte) string {
	const digits = "0123456789abcdef"
	d := Sum256(data)
	var b [64]byte
	for i, x := range d {
		b[2*i], b[2*i+1] = digits[x>>4], digits[x&0xF]
	}
	return string(b[:])
}
