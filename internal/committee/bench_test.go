package committee

import (
	"slices"
	"testing"
	"time"
)

// BenchmarkDecide measures heights decided one after the other by a
// committee of k in one process (every member's signing and verification
// share the machine's cores), against k = 1 in the same run: the cost of
// agreement itself, with a value that takes no time to build or check.
// It reports decisions per second and the p50 and p99 latency from
// request to the last member's commit.
func BenchmarkDecide(b *testing.B) {
	for _, k := range []int{1, 4, 7} {
		b.Run(map[int]string{1: "k=1", 4: "k=4", 7: "k=7"}[k], func(b *testing.B) {
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
