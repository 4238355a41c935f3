package wasm

import (
	"testing"
	"time"

	"github.com/onvm-network/onvm/internal/id"
)

// BenchmarkReactor is runtime.Run of the Go-SDK echo sample (a reactor:
// _initialize runs the Go runtime's init) restored from its snapshot and
// with _initialize run in every call's instance, next to the minimal WAT
// echo, the baseline, all timed alternately in the same run:
//
//	go test -run '^$' -bench Reactor -benchtime 300x ./internal/wasm/
func BenchmarkReactor(b *testing.B) {
	code, err := Prepare(exampleWasm(b, "echo"))
	if err != nil {
		b.Fatal(err)
	}
	snap, perCall := snapshotRuntimes(b, false)
	// CodeHash given, as the engine does (hashing 4 MB costs ~1 ms).
	goCall := Call{Code: code, CodeHash: id.Sum(code), Entrypoint: "onvm_main", Input: []byte("hello world")}
	wat := fixture(b, "echo_packed")
	watCall := Call{Code: wat, CodeHash: id.Sum(wat), Entrypoint: "run", Input: []byte("hello world")}
	sides := []struct {
		name string
		r    *Runtime
		call Call
	}{{"wat-echo", snap, watCall}, {"go-echo-snapshot", snap, goCall}, {"go-echo-initialize", perCall, goCall}}
	total := make([]time.Duration, len(sides))
	best := make([]time.Duration, len(sides))
	run := func(i int) time.Duration {
		start := time.Now()
		if _, err := sides[i].r.Run(b.Context(), sides[i].call); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	for i := range sides {
		run(i) // compile and snapshot outside the timing
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := range sides {
			d := run(i)
			total[i] += d
			if n == 0 || d < best[i] {
				best[i] = d
			}
		}
	}
	for i, s := range sides {
		b.ReportMetric(float64(total[i].Nanoseconds())/float64(b.N), s.name+"-ns/op")
		if i > 0 {
			b.ReportMetric(float64(total[i])/float64(total[0]), s.name+"/wat")
			b.ReportMetric(float64(best[i])/float64(best[0]), s.name+"/wat-best")
		}
	}
}
