package committee

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/onvm-network/onvm/internal/id"
)

// BenchmarkDecide measures heights decided one after the other by a
// committee of k in one process (every member's signing and verification
// share the machine's cores), against k = 1 in the same run: the cost of
// agreement itself, with a value that takes no time to build or check.
// It reports decisions per second and the p50 and p99 latency from
// request to the last member's commit.
func BenchmarkDecide(b *testing.B) {
	for _, k := range []int{1, 4, 7} {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			_, ms := cluster(b, k)
			var lat []time.Duration
			h := 0
			for b.Loop() {
				h++
				start := time.Now()
				request(b, ms, 1)
				waitDecided(b, ms, h)
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "decisions/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// BenchmarkIdlePrograms measures what programs a member holds but nobody
// uses cost: 10,000 instances opened and then left alone. Each is asleep
// after its resend tick, with no timer; the benchmark reports the heap
// per instance and checks that no timer is left.
func BenchmarkIdlePrograms(b *testing.B) {
	const programs = 10_000
	for b.Loop() {
		_, ms := cluster(b, 1)
		sh := ms[0].shell
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range programs {
			p := id.ProgramOf(binary.BigEndian.AppendUint32(nil, uint32(i)), nil)
			if _, err := sh.instance(p); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if n := sh.timers.len(); n != 0 {
			b.Fatalf("%d timers for %d idle programs", n, programs)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/programs, "heap-bytes/program")
		b.ReportMetric(float64(sh.timers.len()), "timers")
	}
}
