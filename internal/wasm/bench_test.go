package wasm

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"time"
)

// Benchmarks of the performance targets. Ratios are measured within one
// run, alternating the two sides, because the machine is shared:
//
//	go test -run '^$' -bench . -benchtime 20x ./internal/wasm/
//
// BenchmarkWarmCall         warm instantiate + call of an echo   (≤ 100 µs)
// BenchmarkHostCall         cost of one env host call            (ns/call)
// BenchmarkMeteringOverhead metered/original time                (C merge sort ≤ 1.3×, Go ≤ 2.5×)
// BenchmarkInterruptOverhead tight loop with the timeout armed    (≤ 10%)

func BenchmarkWarmCall(b *testing.B) {
	r := newTestRuntime(b, false)
	call := Call{Code: fixture(b, "echo_multi"), Entrypoint: "run", Input: []byte("hello, world")}
	if _, err := r.Run(b.Context(), call); err != nil {
		b.Fatal(err)
	}
	b.Run("echo", func(b *testing.B) {
		for b.Loop() {
			if _, err := r.Run(b.Context(), call); err != nil {
				b.Fatal(err)
			}
		}
	})
	call = Call{Code: fixture(b, "alloc"), Entrypoint: "run", Input: []byte("hello, world")}
	b.Run("echo_alloc_initialize", func(b *testing.B) {
		for b.Loop() {
			if _, err := r.Run(b.Context(), call); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// pair times a and b alternately and reports both, the ratio of their
// totals and the ratio of their fastest runs (steadier on a shared machine).
func pair(b *testing.B, nameA, nameB string, a, c func() error) {
	b.Helper()
	if err := a(); err != nil { // warm both: compile outside the timing
		b.Fatal(err)
	}
	if err := c(); err != nil {
		b.Fatal(err)
	}
	var ta, tc, ba, bc time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := a(); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if err := c(); err != nil {
			b.Fatal(err)
		}
		da, dc := mid.Sub(start), time.Since(mid)
		ta, tc = ta+da, tc+dc
		if i == 0 || da < ba {
			ba = da
		}
		if i == 0 || dc < bc {
			bc = dc
		}
	}
	b.ReportMetric(float64(ta.Nanoseconds())/float64(b.N), nameA+"-ns/op")
	b.ReportMetric(float64(tc.Nanoseconds())/float64(b.N), nameB+"-ns/op")
	b.ReportMetric(float64(ta)/float64(tc), "ratio")
	b.ReportMetric(float64(ba)/float64(bc), "best-ratio")
}

func BenchmarkHostCall(b *testing.B) {
	const n = 100_000
	r := newTestRuntime(b, false)
	input := binary.LittleEndian.AppendUint32(nil, n)
	run := func(entry string) func() error {
		return func() error {
			_, err := r.Run(context.Background(), Call{Code: fixture(b, "hostloop"), Entrypoint: entry, Input: input})
			return err
		}
	}
	var tCalls, tEmpty time.Duration
	_ = run("calls")()
	_ = run("empty")()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		_ = run("calls")()
		mid := time.Now()
		_ = run("empty")()
		tCalls, tEmpty = tCalls+mid.Sub(start), tEmpty+time.Since(mid)
	}
	b.ReportMetric(float64((tCalls-tEmpty).Nanoseconds())/float64(b.N*n), "ns/hostcall")
}

func BenchmarkMeteringOverhead(b *testing.B) {
	r := newTestRuntime(b, false)
	run := func(fixtureName, entry string, input []byte, unmetered bool) func() error {
		call := Call{Entrypoint: entry, Input: input, Fuel: 1 << 40, unmetered: unmetered}
		if unmetered {
			call.Code = rawFixture(b, fixtureName)
		} else {
			call.Code = fixture(b, fixtureName)
		}
		return func() error {
			_, err := r.Run(context.Background(), call)
			return err
		}
	}
	input := u32s(200_000, 7)
	b.Run("c_msort_200k", func(b *testing.B) {
		pair(b, "metered", "original", run("msort", "sort", input, false), run("msort", "sort", input, true))
	})
	b.Run("go_sort_sha256_200k", func(b *testing.B) {
		pair(b, "metered", "original", run("goguest", "work", input, false), run("goguest", "work", input, true))
	})
	b.Run("go_example_analytics_100KB", func(b *testing.B) {
		raw := exampleWasm(b, "analytics")
		code, err := Prepare(raw)
		if err != nil {
			b.Fatal(err)
		}
		text := strings.Repeat("Rust WASM analytics test. Rust Rust WASM! ", 2400)
		in := []byte(`{"text": "` + text + `", "numbers": [1.0, 2.5, 3.5, 10.0], "include_compressed": true}`)
		call := func(code []byte, unmetered bool) func() error {
			return func() error {
				_, err := r.Run(context.Background(), Call{Code: code, Entrypoint: "onvm_main", Input: in, Fuel: 1 << 40, unmetered: unmetered})
				return err
			}
		}
		pair(b, "metered", "original", call(code, false), call(raw, true))
	})
}

// BenchmarkCheckpointOverhead measures what stopping a guest costs on a
// tight loop: arming a timeout and a cancellable context
// (armed_vs_unarmed); the host calls at the checkpoints, every
// DefaultCheckpointInterval units of fuel, against none
// (interval_default_vs_never); on a hand-written copy of the meter's output, the
// checkpoint of onvm-meter/2 against the interrupt-flag poll of
// onvm-meter/1 (checkpoint_vs_interruptpoll) and against no poll at all
// (checkpoint_vs_nopoll); for reference, the whole meter against the
// original module, and wazero's WithCloseOnContextDone (the rejected
// alternative) against the original.
func BenchmarkCheckpointOverhead(b *testing.B) {
	r := newTestRuntime(b, false)
	input := binary.LittleEndian.AppendUint32(nil, 1<<24)
	call := Call{Code: fixture(b, "limits"), Entrypoint: "count", Input: input, Fuel: 1 << 40}
	armed := func() error {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c := call
		c.Timeout = time.Minute
		_, err := r.Run(ctx, c)
		return err
	}
	unarmed := func() error {
		c := call
		c.Timeout = -1
		_, err := r.Run(context.Background(), c)
		return err
	}
	b.Run("armed_vs_unarmed", func(b *testing.B) { pair(b, "armed", "unarmed", armed, unarmed) })
	rare, err := New(context.Background(), Config{CheckpointInterval: 1 << 62})
	if err != nil {
		b.Fatal(err)
	}
	defer rare.Close(context.Background())
	b.Run("interval_default_vs_never", func(b *testing.B) {
		c := call
		c.Timeout = -1
		never := func() error { _, err := rare.Run(context.Background(), c); return err }
		pair(b, "default", "never", unarmed, never)
	})
	raw := func(rt *Runtime) func() error {
		return func() error {
			_, err := rt.Run(context.Background(), Call{Code: rawFixture(b, "limits"), Entrypoint: "count", Input: input, Timeout: -1, unmetered: true})
			return err
		}
	}
	b.Run("metered_vs_original", func(b *testing.B) { pair(b, "metered", "original", armed, raw(r)) })
	poll := func(entry string) func() error {
		return func() error {
			_, err := r.Run(context.Background(), Call{Code: rawFixture(b, "pollcost"), Entrypoint: entry, Input: input, Timeout: -1, unmetered: true})
			return err
		}
	}
	b.Run("checkpoint_vs_interruptpoll", func(b *testing.B) {
		pair(b, "checkpoint", "interruptpoll", poll("fuel_checkpoint"), poll("fuel_poll"))
	})
	b.Run("checkpoint_vs_nopoll", func(b *testing.B) { pair(b, "checkpoint", "nopoll", poll("fuel_checkpoint"), poll("fuel")) })
	slow, err := New(context.Background(), Config{closeOnContextDone: true})
	if err != nil {
		b.Fatal(err)
	}
	defer slow.Close(context.Background())
	b.Run("closeOnContextDone_vs_original", func(b *testing.B) { pair(b, "closeondone", "original", raw(slow), raw(r)) })
}
