package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/wasm"
)

// Benchmarks of the execution targets (docs/rationale/execution.md):
// /execute of echo over HTTP p50 ≤ 2 ms and ≥ 1,000 executions/s with
// durable receipts; kvstore puts ≥ 500/s. Each is reported next to the
// raw runtime.Run of the same call, the floor the engine adds to.
//
//	go test ./internal/api -run '^$' -bench 'Execute' -benchtime 2s
//	ONVM_BENCH_REPORT=1 go test ./internal/api -run TestExecuteBenchReport -v

// benchClient is a keep-alive HTTP client with enough idle connections
// for the parallel benchmarks.
var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

func postExecute(b testing.TB, url string, body []byte) {
	resp, err := benchClient.Post(url+"/execute", "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

func executeBody(p string, input []byte) []byte {
	b, _ := json.Marshal(map[string]any{"program_id": p, "input_base64": base64.StdEncoding.EncodeToString(input)})
	return b
}

// benchRawRun is the baseline: runtime.Run of the instrumented echo.
func benchRawRun(b *testing.B) {
	code, err := wasm.Prepare(sampleWasm(b, "echo"))
	if err != nil {
		b.Fatal(err)
	}
	rt := sharedRuntime(b)
	call := wasm.Call{Code: code, Entrypoint: "onvm_main", Input: []byte("hello world")}
	if _, err := rt.Run(context.Background(), call); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := rt.Run(context.Background(), call); err != nil {
			b.Fatal(err)
		}
	}
}

// benchEngine is chain.Engine.Execute of echo without HTTP.
func benchEngine(b *testing.B) {
	n := newProgramNode(b, 1)
	p := n.deployJSON(sampleWasm(b, "echo"), "onvm_main", "bench")
	eng := n.srv.opts.Programs
	req := chain.Request{Input: []byte("hello world")}
	req.Program = parseProgram(b, p)
	if _, err := eng.Execute(context.Background(), req); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := eng.Execute(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// benchHTTPSerial is one client executing echo over HTTP; it reports the
// latency percentiles.
func benchHTTPSerial(b *testing.B) {
	n := newProgramNode(b, 1)
	p := n.deployJSON(sampleWasm(b, "echo"), "onvm_main", "bench")
	body := executeBody(p, []byte("hello world"))
	postExecute(b, n.url, body)
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		postExecute(b, n.url, body)
		lat = append(lat, time.Since(t0))
	}
	reportLatency(b, lat)
}

// benchHTTPParallel is concurrent clients over HTTP, each request a
// different input (kvstore: a different key), against programs programs.
func benchHTTPParallel(sample string, programs int, input func(i int64) []byte) func(b *testing.B) {
	return func(b *testing.B) {
		n := newProgramNode(b, 1)
		ids := make([]string, programs)
		for i := range ids {
			ids[i] = n.deployJSON(sampleWasm(b, sample), "onvm_main", fmt.Sprint("bench", i))
			postExecute(b, n.url, executeBody(ids[i], input(-1-int64(i))))
		}
		var seq atomic.Int64
		b.SetParallelism(4) // 4 × GOMAXPROCS clients
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := seq.Add(1)
				postExecute(b, n.url, executeBody(ids[i%int64(programs)], input(i)))
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "exec/s")
	}
}

func echoInput(int64) []byte { return []byte("hello world") }

func kvPut(i int64) []byte {
	return fmt.Appendf(nil, `{"op":"put","key":"k%d","data_base64":"dmFsdWU="}`, i)
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

func BenchmarkExecute(b *testing.B) {
	b.Run("raw-run-echo", benchRawRun)
	b.Run("engine-echo", benchEngine)
	b.Run("http-echo-serial", benchHTTPSerial)
	b.Run("http-echo-parallel-1-program", benchHTTPParallel("echo", 1, echoInput))
	b.Run("http-echo-parallel-4-programs", benchHTTPParallel("echo", 4, echoInput))
	b.Run("http-kvstore-put-parallel-1-program", benchHTTPParallel("kvstore", 1, kvPut))
}

// TestExecuteBenchReport runs the benchmarks once and prints each as a
// ratio to the raw runtime.Run baseline measured in the same run.
func TestExecuteBenchReport(t *testing.T) {
	if os.Getenv("ONVM_BENCH_REPORT") == "" {
		t.Skip("set ONVM_BENCH_REPORT=1")
	}
	cases := []struct {
		name string
		f    func(*testing.B)
	}{
		{"raw runtime.Run echo", benchRawRun},
		{"engine Execute echo", benchEngine},
		{"HTTP echo, 1 client", benchHTTPSerial},
		{"HTTP echo, parallel, 1 program", benchHTTPParallel("echo", 1, echoInput)},
		{"HTTP echo, parallel, 4 programs", benchHTTPParallel("echo", 4, echoInput)},
		{"HTTP kvstore put, parallel, 1 program", benchHTTPParallel("kvstore", 1, kvPut)},
	}
	var base float64
	for _, c := range cases {
		r := testing.Benchmark(c.f)
		ns := float64(r.T.Nanoseconds()) / float64(r.N)
		if base == 0 {
			base = ns
		}
		extra := ""
		for _, m := range []string{"p50-ms", "p99-ms"} {
			if v, ok := r.Extra[m]; ok {
				extra += fmt.Sprintf(" %s=%.2f", m, v)
			}
		}
		t.Logf("%-40s %8.3f ms/op %8.0f op/s  ×%.2f of raw run%s", c.name, ns/1e6, 1e9/ns, ns/base, extra)
	}
}

func parseProgram(t testing.TB, s string) id.Program {
	t.Helper()
	p, err := id.ParseProgram(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
