package serde

import "strconv"

// Utf8Error returns the message of Rust's core::str::Utf8Error for b, or ""
// if b is valid UTF-8: "invalid utf-8 sequence of N bytes from index I" or
// "incomplete utf-8 byte sequence from index I". N is the length of the
// maximal prefix of a valid sequence, as Rust computes it.
func Utf8Error(b []byte) string {
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			i++
			continue
		}
		width, lo, hi := 0, byte(0x80), byte(0xBF)
		switch {
		case 0xC2 <= c && c <= 0xDF:
			width = 2
		case c == 0xE0:
			width, lo = 3, 0xA0
		case 0xE1 <= c && c <= 0xEC, c == 0xEE, c == 0xEF:
			width = 3
		case c == 0xED:
			width, hi = 3, 0x9F
		case c == 0xF0:
			width, lo = 4, 0x90
		case 0xF1 <= c && c <= 0xF3:
			width = 4
		case c == 0xF4:
			width, hi = 4, 0x8F
		default:
			return invalidSeq(1, i)
		}
		for k := 1; k < width; k++ {
			if i+k >= len(b) {
				return "incomplete utf-8 byte sequence from index " + strconv.Itoa(i)
			}
			if x := b[i+k]; x < lo || x > hi {
				return invalidSeq(k, i)
			}
			lo, hi = 0x80, 0xBF
		}
		i += width
	}
	return ""
}

func invalidSeq(n, at int) string {
	return "invalid utf-8 sequence of " + strconv.Itoa(n) + " bytes from index " + strconv.Itoa(at)
}
