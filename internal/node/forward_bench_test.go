package node

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/onvm-network/onvm/client"
)

// BenchmarkExecuteForwarded compares executions sent to the program's
// committee (direct) with the same executions sent to the other node,
// which forwards each over the exec protocol (forwarded), eight clients
// at a time over loopback. The forwarded rate should stay at least 0.8×
// the direct one; a per-sender limit of 5/s once capped a whole node's
// clients there.
func BenchmarkExecuteForwarded(b *testing.B) {
	nodes := startCluster(b, 2)
	prog, home, other := homeAndOther(b, nodes, "bench forward")
	var seq atomic.Int64
	// Compile the module on the home before timing anything.
	if _, err := nodes[home].c.Execute(b.Context(), client.ExecuteRequest{ProgramID: prog, Input: []byte(`{"op":"stats"}`)}); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		via  int
	}{{"direct", home}, {"forwarded", other}} {
		b.Run(tc.name, func(b *testing.B) {
			c := nodes[tc.via].c
			b.SetParallelism(4) // × GOMAXPROCS clients
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					in := fmt.Sprintf(`{"op":"put","key":"k%d","data_base64":"dmFsdWU="}`, seq.Add(1))
					if _, err := c.Execute(b.Context(), client.ExecuteRequest{ProgramID: prog, Input: []byte(in)}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
