package wasm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestStopTheWorld: compiled guest code cannot be preempted by the Go
// scheduler, so while a guest runs, a stop-the-world pause (a GC) waits
// for it, and with it every other goroutine of the node. A guest spinning
// in a loop without host calls, with ten times the default fuel (what a job
// may allow), must neither hold the other goroutines up nor miss its
// timeout by more than a few checkpoint intervals while another goroutine
// collects garbage in a loop.
//
// The machine is shared: an attempt beyond the bounds is retried twice, so
// only a systematic delay fails.
func TestStopTheWorld(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for seconds")
	}
	r := newTestRuntime(t, false) // the interpreter is Go code: preemptible
	code := fixture(t, "limits")
	if _, err := r.Run(t.Context(), Call{Code: code, Entrypoint: "count", Input: []byte{1, 0, 0, 0}}); err != nil {
		t.Fatal(err) // compile first: only the run is measured
	}
	const (
		timeout = 100 * time.Millisecond
		bound   = 50 * time.Millisecond
	)
	for _, entry := range []string{"forever", "spin"} {
		t.Run(entry, func(t *testing.T) {
			var late time.Duration
			var h held
			for attempt := 0; attempt < 3; attempt++ {
				var res *Result
				var err error
				h = whileCollecting(func() {
					start := time.Now()
					res, err = r.Run(t.Context(), Call{Code: code, Entrypoint: entry, Fuel: 10 * DefaultFuel, Timeout: timeout})
					late = time.Since(start) - timeout
				})
				t.Logf("stopped %v after the deadline (%v); stop-the-world waited ≤ %v to stop; other goroutines blocked for up to %v; longest GC or ReadMemStats %v",
					late, KindOf(err), h.stopping, h.blocked, h.collect)
				checkKind(t, res, err, KindTimeout, "")
				if late <= bound && h.stopping <= bound && h.blocked <= bound {
					return
				}
			}
			t.Errorf("stopped %v after the deadline, stop-the-world waited ≤ %v, other goroutines blocked for %v; want all ≤ %v", late, h.stopping, h.blocked, bound)
		})
	}
}

// held is how long a stop-the-world pause and other goroutines were held up
// while a guest ran.
type held struct {
	blocked  time.Duration // longest gap between the ticks of a goroutine ticking every millisecond
	stopping time.Duration // longest wait for all goroutines to stop for a stop-the-world pause (upper bound of its histogram bucket)
	collect  time.Duration // longest runtime.GC or runtime.ReadMemStats call
}

// stoppingMetrics are the runtime's histograms of how long stop-the-world
// pauses waited for every goroutine to stop: the wait a non-preemptible
// guest prolongs.
var stoppingMetrics = []string{"/sched/pauses/stopping/gc:seconds", "/sched/pauses/stopping/other:seconds"}

// whileCollecting runs f while one goroutine alternates runtime.GC and
// runtime.ReadMemStats (a stop-the-world of its own) in a loop and another
// ticks every millisecond, and reports how long they were held up.
func whileCollecting(f func()) held {
	var h held
	before := make([]metrics.Sample, len(stoppingMetrics))
	for i, name := range stoppingMetrics {
		before[i].Name = name
	}
	after := slices.Clone(before)
	metrics.Read(before)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			start := time.Now()
			if i%2 == 0 {
				runtime.ReadMemStats(&ms)
			} else {
				runtime.GC()
			}
			h.collect = max(h.collect, time.Since(start))
		}
	})
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-done:
			case <-tick.C:
			}
			now := time.Now() // not the tick's time: ticks are dropped while blocked
			h.blocked = max(h.blocked, now.Sub(last))
			last = now
			select {
			case <-done:
				return
			default:
			}
		}
	})
	f()
	close(done)
	wg.Wait()
	metrics.Read(after)
	for i := range after {
		hb, ha := before[i].Value.Float64Histogram(), after[i].Value.Float64Histogram()
		for j := len(ha.Counts) - 1; j >= 0; j-- {
			if ha.Counts[j] > hb.Counts[j] {
				h.stopping = max(h.stopping, time.Duration(ha.Buckets[j+1]*float64(time.Second)))
				break
			}
		}
	}
	return h
}

// BenchmarkCheckpoint measures what the checkpoint interval means in time:
// for a few workloads, the wall time per million fuel (µs/Mfuel: the
// longest a guest runs between two returns to Go code, with the default
// interval); and, for a guest spinning with ten times the default fuel
// while another goroutine collects garbage, how late its timeout stops it
// and how long other goroutines are held up, at several intervals (worst of
// b.N attempts), with the same measurement without a guest for reference.
func BenchmarkCheckpoint(b *testing.B) {
	r := newTestRuntime(b, false)
	for _, w := range []struct {
		name, fixture, entry string
		input                []byte
	}{
		{"spin", "limits", "forever", nil}, // runs out of fuel
		{"count", "limits", "count", binary.LittleEndian.AppendUint32(nil, 1<<24)},
		{"c_msort_200k", "msort", "sort", u32s(200_000, 7)},
		{"go_sort_sha256_200k", "goguest", "work", u32s(200_000, 7)},
		{"cache_miss_chase", "chase", "chase", binary.LittleEndian.AppendUint32(nil, 1<<20)},
	} {
		b.Run("rate/"+w.name, func(b *testing.B) {
			call := Call{Code: fixture(b, w.fixture), Entrypoint: w.entry, Input: w.input, Fuel: 1 << 40, Timeout: -1}
			if w.entry == "forever" {
				call.Fuel = DefaultFuel
			}
			var fuel uint64
			var elapsed time.Duration
			_, _ = r.Run(b.Context(), call) // compile
			for b.Loop() {
				start := time.Now()
				res, err := r.Run(b.Context(), call)
				elapsed += time.Since(start)
				var e *Error
				switch {
				case err == nil:
					fuel += res.FuelUsed
				case errors.As(err, &e) && e.Kind == KindOutOfFuel:
					fuel += e.FuelUsed
				default:
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(elapsed.Microseconds())/(float64(fuel)/1e6), "µs/Mfuel")
		})
	}
	b.Run("gc/no guest", func(b *testing.B) { // the machine's own noise
		var blocked, stopping time.Duration
		for b.Loop() {
			h := whileCollecting(func() { <-time.After(100 * time.Millisecond) })
			blocked, stopping = max(blocked, h.blocked), max(stopping, h.stopping)
		}
		b.ReportMetric(float64(blocked.Microseconds())/1000, "max-blocked-ms")
		b.ReportMetric(float64(stopping.Microseconds())/1000, "max-stopping-ms")
	})
	for _, g := range []struct {
		name     string
		interval int64
		call     Call
	}{
		{"spin", DefaultCheckpointInterval / 4, Call{Entrypoint: "forever"}},
		{"spin", DefaultCheckpointInterval, Call{Entrypoint: "forever"}},
		{"spin", 4 * DefaultCheckpointInterval, Call{Entrypoint: "forever"}},
		{"spin", 16 * DefaultCheckpointInterval, Call{Entrypoint: "forever"}},
		{"cache_miss_chase", DefaultCheckpointInterval, Call{Entrypoint: "chase", Input: binary.LittleEndian.AppendUint32(nil, 1<<31)}},
	} {
		b.Run(fmt.Sprintf("gc/%s/interval=%d", g.name, g.interval), func(b *testing.B) {
			r, err := New(b.Context(), Config{CheckpointInterval: g.interval})
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close(b.Context())
			call := g.call
			call.Code, call.Fuel, call.Timeout = fixture(b, "limits"), 10*DefaultFuel, 100*time.Millisecond
			if call.Entrypoint == "chase" {
				call.Code, call.Fuel, call.Timeout = fixture(b, "chase"), 1<<40, 500*time.Millisecond
			}
			_, _ = r.Run(b.Context(), call) // compile
			var late, blocked, stopping time.Duration
			for b.Loop() {
				h := whileCollecting(func() {
					start := time.Now()
					_, err := r.Run(b.Context(), call)
					late = max(late, time.Since(start)-call.Timeout)
					if KindOf(err) != KindTimeout {
						b.Errorf("err = %v, want a timeout", err)
					}
				})
				blocked, stopping = max(blocked, h.blocked), max(stopping, h.stopping)
			}
			b.ReportMetric(float64(late.Microseconds())/1000, "max-late-ms")
			b.ReportMetric(float64(blocked.Microseconds())/1000, "max-blocked-ms")
			b.ReportMetric(float64(stopping.Microseconds())/1000, "max-stopping-ms")
		})
	}
}
