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
	"path/filepath"
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

// module is a guest to benchmark: a sample built with the Go SDK, or the
// runtime's minimal WAT echo, which shows what the engine and HTTP cost
// when the guest costs almost nothing.
type module struct {
	name, entry string
	load        func(testing.TB) []byte
	in          []byte // the raw run's input; nil: "hello world"
}

var (
	goEcho  = module{"echo", "onvm_main", func(t testing.TB) []byte { return sampleWasm(t, "echo") }, nil}
	goKV    = module{"kvstore", "onvm_main", func(t testing.TB) []byte { return sampleWasm(t, "kvstore") }, kvPut(0)}
	watEcho = module{"wat-echo", "run", func(t testing.TB) []byte {
		b, err := os.ReadFile(filepath.Join("..", "wasm", "testdata", "echo_packed.wasm"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}, nil}
)

// benchRawRun is the baseline: runtime.Run of the instrumented module.
func benchRawRun(mod module) func(b *testing.B) {
	return func(b *testing.B) { rawRun(b, mod) }
}

func rawRun(b *testing.B, mod module) {
	code, err := wasm.Prepare(mod.load(b))
	if err != nil {
		b.Fatal(err)
	}
	rt := sharedRuntime(b)
	in := mod.in
	if in == nil {
		in = []byte("hello world")
	}
	call := wasm.Call{Code: code, Entrypoint: mod.entry, Input: in}
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

// benchEngine is chain.Engine.Execute without HTTP.
func benchEngine(mod module) func(b *testing.B) {
	return func(b *testing.B) { engineRun(b, mod) }
}

func engineRun(b *testing.B, mod module) {
	n := newProgramNode(b, 1)
	p := n.deployJSON(mod.load(b), mod.entry, "bench")
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

// benchHTTPSerial is one client executing over HTTP; it reports the
// latency percentiles.
func benchHTTPSerial(mod module) func(b *testing.B) {
	return func(b *testing.B) { httpSerial(b, mod) }
}

func httpSerial(b *testing.B, mod module) {
	n := newProgramNode(b, 1)
	p := n.deployJSON(mod.load(b), mod.entry, "bench")
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
// different input (kvstore: the next key of a fixed set), against programs
// programs. Before the timer, each program runs input(0 … warm−1): for the
// kvstore that stores every key of the set, so every timed put meets the
// same state size whatever b.N is (the sample's key index grows with its
// keys, and a benchmark whose per-op cost grows with b.N measures nothing).
func benchHTTPParallel(mod module, programs int, input func(i int64) []byte, warm int) func(b *testing.B) {
	return func(b *testing.B) {
		n := newProgramNode(b, 1)
		ids := make([]string, programs)
		for i := range ids {
			ids[i] = n.deployJSON(mod.load(b), mod.entry, fmt.Sprint("bench", i))
			postExecute(b, n.url, executeBody(ids[i], input(-1-int64(i))))
			for j := range warm {
				postExecute(b, n.url, executeBody(ids[i], input(int64(j))))
			}
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

// kvKeys is the kvstore benchmark's key set: a put overwrites one of
// kvKeys keys, all stored before the timer starts.
const kvKeys = 1000

func kvPut(i int64) []byte {
	return fmt.Appendf(nil, `{"op":"put","key":"k%d","data_base64":"dmFsdWU="}`, (i%kvKeys+kvKeys)%kvKeys)
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
	for _, mod := range []module{goEcho, watEcho} {
		b.Run("raw-run-"+mod.name, benchRawRun(mod))
		b.Run("engine-"+mod.name, benchEngine(mod))
		b.Run("http-serial-"+mod.name, benchHTTPSerial(mod))
		b.Run("http-parallel-1-program-"+mod.name, benchHTTPParallel(mod, 1, echoInput, 0))
		b.Run("http-parallel-4-programs-"+mod.name, benchHTTPParallel(mod, 4, echoInput, 0))
	}
	b.Run("http-parallel-1-program-kvstore-put", benchHTTPParallel(goKV, 1, kvPut, kvKeys))
}

// TestExecuteBenchReport runs the benchmarks once and prints each as a
// ratio to the raw runtime.Run baseline measured in the same run.
func TestExecuteBenchReport(t *testing.T) {
	if os.Getenv("ONVM_BENCH_REPORT") == "" {
		t.Skip("set ONVM_BENCH_REPORT=1")
	}
	type bench struct {
		name string
		f    func(*testing.B)
		base bool // the baseline of the rows after it
	}
	var cases []bench
	for _, mod := range []module{goEcho, watEcho} {
		cases = append(cases,
			bench{"raw runtime.Run " + mod.name, benchRawRun(mod), true},
			bench{"engine Execute " + mod.name, benchEngine(mod), false},
			bench{"HTTP " + mod.name + ", 1 client", benchHTTPSerial(mod), false},
			bench{"HTTP " + mod.name + ", 8 clients, 1 program", benchHTTPParallel(mod, 1, echoInput, 0), false},
			bench{"HTTP " + mod.name + ", 8 clients, 4 programs", benchHTTPParallel(mod, 4, echoInput, 0), false})
	}
	cases = append(cases,
		bench{"raw runtime.Run kvstore put", func(b *testing.B) { rawRun(b, goKV) }, true},
		bench{"HTTP kvstore put, 8 clients, 1 program", benchHTTPParallel(goKV, 1, kvPut, kvKeys), false})
	var base float64
	for _, c := range cases {
		r := testing.Benchmark(c.f)
		ns := float64(r.T.Nanoseconds()) / float64(r.N)
		if c.base {
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
