package main

import (
	"math"
	"slices"
	"strconv"

	"github.com/onvm-network/onvm/examples/internal/serde"
)

// topTokens splits text into maximal runs of ASCII letters and digits (the
// regex [A-Za-z0-9]+), lower-cased, and returns their number and the n most
// frequent as a JSON array of [token, count] pairs, by count descending
// then token ascending.
func topTokens(text string, n int) (total int, top []byte) {
	counts := map[string]int{}
	for i := 0; i < len(text); {
		if !isAlnum(text[i]) {
			i++
			continue
		}
		j := i
		for j < len(text) && isAlnum(text[j]) {
			j++
		}
		counts[lower(text[i:j])]++
		total++
		i = j
	}
	type tc struct {
		token string
		count int
	}
	all := make([]tc, 0, len(counts))
	for t, c := range counts {
		all = append(all, tc{t, c})
	}
	slices.SortFunc(all, func(a, b tc) int {
		if a.count != b.count {
			return b.count - a.count
		}
		if a.token < b.token {
			return -1
		}
		return 1 // tokens are distinct
	})
	top = []byte{'['}
	for i, e := range all[:min(n, len(all))] {
		if i > 0 {
			top = append(top, ',')
		}
		top = append(top, '[')
		top = serde.AppendString(top, e.token)
		top = append(top, ',')
		top = strconv.AppendInt(top, int64(e.count), 10)
		top = append(top, ']')
	}
	return total, append(top, ']')
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// numberStats returns {"count","mean","variance","min","max"}: the sample
// variance (n−1), 0 for fewer than two numbers, and all zeros for none.
// Sums run in input order, as the original's iterator sums did.
func numberStats(xs []float64) []byte {
	var mean, variance, lo, hi float64
	if len(xs) > 0 {
		var sum float64
		lo, hi = math.Inf(1), math.Inf(-1)
		for _, x := range xs {
			sum += x
			lo = min(lo, x)
			hi = max(hi, x)
		}
		mean = sum / float64(len(xs))
		if len(xs) > 1 {
			var sq float64
			for _, x := range xs {
				d := x - mean
				sq += d * d
			}
			variance = sq / float64(len(xs)-1)
		}
	}
	var o serde.Obj
	return o.Uint("count", uint64(len(xs))).Float("mean", mean).Float("variance", variance).
		Float("min", lo).Float("max", hi).Bytes()
}
