package main

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

func main() {
	m := map[string]int{}
	var sb strings.Builder
	for i := 0; i < 20000; i++ {
		k := fmt.Sprintf("k%d", i%997)
		m[k] += i
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	x := 0.0
	for i := 1; i < 200000; i++ {
		x += math.Sqrt(float64(i)) / float64(i+1)
	}
	for _, k := range keys[:5] {
		sb.WriteString(k)
	}
	fmt.Println(sb.String(), len(keys), m["k5"], x)
}
