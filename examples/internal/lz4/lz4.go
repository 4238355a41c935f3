// Package lz4 compresses in the LZ4 block format the way the Rust crate
// lz4_flex (0.11, as built for wasm32) does, so that the analytics sample
// reproduces the original program's compressed bytes, not just a valid
// block. It only compresses; the tests decompress with an independent
// implementation. It must not allocate more than its input demands and has
// no init, to keep wasip1 modules small.
package lz4

const (
	minMatch     = 4
	lastLiterals = 5  // END_OFFSET: the last 5 bytes are always literals
	mfLimit      = 12 // a match may not start in the last 12 bytes
	minLength    = mfLimit + 1
	maxDistance  = 65535
	hashLog      = 12 // a 4096-entry table, as lz4_flex's HashTable4K*
	skipTrigger  = 5  // INCREASE_STEPSIZE_BITSHIFT
)

// CompressPrependSize returns the LZ4 block of src preceded by len(src) as
// a 4-byte little-endian integer (lz4_flex's compress_prepend_size).
func CompressPrependSize(src []byte) []byte {
	n := uint32(len(src))
	dst := make([]byte, 4, 4+len(src)+len(src)/255+16)
	dst[0], dst[1], dst[2], dst[3] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
	return CompressBlock(dst, src)
}

// batch reads the little-endian uint32 at b[i:] (encoding/binary would
// link reflect).
func batch(b []byte, i int) uint32 {
	return uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16 | uint32(b[i+3])<<24
}

func hash(v uint32) uint32 { return (v * 2654435761) >> (32 - hashLog) }

// CompressBlock appends the LZ4 block of src to dst.
func CompressBlock(dst, src []byte) []byte {
	if len(src) < minLength {
		return lastLits(dst, src, 0)
	}
	var table [1 << hashLog]uint32 // positions; zero-initialised like lz4_flex
	end := len(src) - mfLimit
	litStart := 0
	table[hash(batch(src, 0))] = 0
	cur := 1
	for {
		// Find a match, probing faster the longer none is found.
		var cand int
		nonMatch := 1 << skipTrigger
		next := cur
		for {
			step := nonMatch >> skipTrigger
			nonMatch++
			cur = next
			next += step
			if cur > end {
				return lastLits(dst, src, litStart)
			}
			h := hash(batch(src, cur))
			cand = int(table[h])
			table[h] = uint32(cur)
			if cur-cand > maxDistance {
				continue
			}
			if batch(src, cand) == batch(src, cur) {
				break
			}
		}
		for cand > 0 && cur > litStart && src[cur-1] == src[cand-1] {
			cur--
			cand--
		}
		litLen := cur - litStart
		offset := cur - cand
		cur += minMatch
		cand += minMatch
		limit := min(len(src)-lastLiterals-cur, len(src)-cand)
		n := 0
		for n < limit && src[cur+n] == src[cand+n] {
			n++
		}
		cur += n
		table[hash(batch(src, cur-2))] = uint32(cur - 2)

		dst = append(dst, token(litLen, n))
		if litLen >= 0xF {
			dst = lsic(dst, litLen-0xF)
		}
		dst = append(dst, src[litStart:litStart+litLen]...)
		dst = append(dst, byte(offset), byte(offset>>8))
		if n >= 0xF {
			dst = lsic(dst, n-0xF)
		}
		litStart = cur
	}
}

func token(litLen, matchLen int) byte {
	return byte(min(litLen, 0xF)<<4 | min(matchLen, 0xF))
}

// lsic appends n in LZ4's linear small-integer code.
func lsic(dst []byte, n int) []byte {
	for ; n >= 0xFF; n -= 0xFF {
		dst = append(dst, 0xFF)
	}
	return append(dst, byte(n))
}

func lastLits(dst, src []byte, start int) []byte {
	n := len(src) - start
	dst = append(dst, token(n, 0))
	if n >= 0xF {
		dst = lsic(dst, n-0xF)
	}
	return append(dst, src[start:]...)
}
