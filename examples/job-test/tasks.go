package main

import "unicode/utf8"

// compute starts from data parsed as a u64 (1 if absent or unparsable) and
// applies r = r·i + i for i = 1..iterations, wrapping.
func compute(data string, iterations uint32) uint64 {
	r, err := parseU64(data)
	if err != nil {
		r = 1
	}
	for i := uint64(1); i <= uint64(iterations); i++ {
		r = r*i + i
	}
	return r
}

// hash folds the bytes of s iterations times: h = h·31 + byte + i + index,
// wrapping.
func hash(s string, iterations uint32) uint64 {
	var h uint64
	for i := uint64(0); i < uint64(iterations); i++ {
		for idx := 0; idx < len(s); idx++ {
			h = h*31 + uint64(s[idx]) + i + uint64(idx)
		}
	}
	return h
}

func hex16(x uint64) string {
	const digits = "0123456789abcdef"
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = digits[x&0xF]
		x >>= 4
	}
	return string(b[:])
}

// transform upper-cases the characters (not bytes) at even positions and
// lower-cases those at odd positions; only ASCII letters change.
func transform(s string) string {
	out := make([]byte, 0, len(s))
	i := 0
	for _, r := range s {
		switch {
		case i%2 == 0 && 'a' <= r && r <= 'z':
			r -= 'a' - 'A'
		case i%2 == 1 && 'A' <= r && r <= 'Z':
			r += 'a' - 'A'
		}
		out = utf8.AppendRune(out, r)
		i++
	}
	return string(out)
}

// stress sums fib(i mod 20) for i below min(iterations, 1000).
func stress(iterations uint32) uint64 {
	var sum uint64
	for i := range min(iterations, 1000) {
		sum += fib(i % 20)
	}
	return sum
}

func fib(n uint32) uint64 {
	a, b := uint64(0), uint64(1)
	for range n {
		a, b = b, a+b
	}
	return a
}
