package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/client/wire"
	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/config"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/job"
	"github.com/onvm-network/onvm/internal/program"
	"github.com/onvm-network/onvm/internal/state"
)

// jobBench is a node as run-node wires it for jobs: one on-disk pebble
// database (blobs, state, chain, jobs), the blob files beside it, the
// engine, the job service and the API on a real listener.
type jobBench struct {
	db   *pebble.DB
	eng  *chain.Engine
	jobs *job.Service
	url  string
	echo id.Program
}

func newJobBench(b *testing.B, workers int) *jobBench {
	b.Helper()
	dir := b.TempDir()
	db, err := pebble.Open(filepath.Join(dir, "db"), &pebble.Options{Logger: quietPebble{}})
	if err != nil {
		b.Fatal(err)
	}
	blobs, err := blob.Open(blob.Options{Dir: filepath.Join(dir, "blobs"), DB: db})
	if err != nil {
		b.Fatal(err)
	}
	st, err := state.Open(db)
	if err != nil {
		b.Fatal(err)
	}
	keys := nodeKeys(b, 1)
	eng, err := chain.New(chain.Options{DB: db, State: st, Catalog: program.NewCatalog(db, chain.BlobCode{Blobs: blobs}),
		Blobs: blobs, Runtime: sharedRuntime(b), Keys: keys})
	if err != nil {
		b.Fatal(err)
	}
	js, err := job.Open(context.Background(), job.Options{DB: db, Exec: eng, Blobs: blobs, Key: keys.Ed25519, Workers: workers})
	if err != nil {
		b.Fatal(err)
	}
	m, _, err := eng.Deploy(context.Background(), chain.DeployRequest{Code: sampleWasm(b, "echo"), Entrypoint: "onvm_main", Salt: []byte("bench")})
	if err != nil {
		b.Fatal(err)
	}
	srv := New(Options{RPC: config.Default().RPC, Jobs: config.Default().Jobs, Blobs: blobs, Programs: eng, JobService: js,
		Logger: slog.New(slog.DiscardHandler)})
	ln, err := Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	b.Cleanup(func() {
		_ = srv.Shutdown(context.Background())
		<-done
		js.Close()
		eng.Close()
		blobs.Close()
		db.Close()
	})
	jb := &jobBench{db: db, eng: eng, jobs: js, url: "http://" + ln.Addr().String(), echo: m.Body.Program}
	// Compile the module before measuring.
	if _, err := eng.Execute(context.Background(), chain.Request{Program: jb.echo, Input: []byte("warm")}); err != nil {
		b.Fatal(err)
	}
	return jb
}

// jobBaseline holds the raw chain.Execute rate of the same run, for the
// ratio BenchmarkJobs reports.
var jobBaseline struct {
	sync.Mutex
	perSec float64
}

// BenchmarkJobs measures, in one run:
//
//   - chain_execute: the baseline, raw chain.Engine.Execute of the echo
//     example with a request id (durable transitions), 32 callers;
//   - http_e2e: tiny echo jobs submitted over HTTP by 32 clients and run
//     to completion, every record durable: submit (synced record with the
//     inline input), dispatch, transition with the completed record in its
//     batch; the blob copies of inputs and outputs run in the background
//     at the same time. It reports jobs/s and the ratio to the baseline;
//   - http_latency: submit→running latency p50/p99 below saturation.
//
// Run: go test ./internal/api -run '^$' -bench BenchmarkJobs -benchtime 2000x
func BenchmarkJobs(b *testing.B) {
	const clients = 32
	b.Run("chain_execute", func(b *testing.B) {
		jb := newJobBench(b, 0)
		var next atomic.Int64
		start := time.Now()
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() {
				for {
					i := next.Add(1)
					if i > int64(b.N) {
						return
					}
					in := fmt.Appendf(nil, "hello-%d", i)
					if _, err := jb.eng.Execute(context.Background(), chain.Request{Program: jb.echo, Input: in, RequestID: fmt.Sprintf("base-%d", i)}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		rate := float64(b.N) / time.Since(start).Seconds()
		b.ReportMetric(rate, "execs/s")
		jobBaseline.Lock()
		jobBaseline.perSec = rate
		jobBaseline.Unlock()
	})
	b.Run("http_e2e", func(b *testing.B) {
		jb := newJobBench(b, 0)
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
		var next atomic.Int64
		var wg, done sync.WaitGroup
		start := time.Now()
		for range clients {
			wg.Go(func() {
				for {
					i := next.Add(1)
					if i > int64(b.N) {
						return
					}
					jid, err := jb.submit(hc, fmt.Sprintf("job-%d", i), fmt.Sprintf("hello-%d", i))
					if err != nil {
						b.Error(err)
						return
					}
					done.Go(func() { jb.wait(b, jid, func(j *job.Job) bool { return j.Status.Terminal() }) })
				}
			})
		}
		wg.Wait()
		submitted := time.Since(start)
		done.Wait()
		elapsed := time.Since(start)
		if st := jb.jobs.Stats(); st.Totals.Completed != uint64(b.N) {
			b.Fatalf("%d of %d jobs completed", st.Totals.Completed, b.N)
		}
		rate := float64(b.N) / elapsed.Seconds()
		b.ReportMetric(rate, "jobs/s")
		b.ReportMetric(float64(b.N)/submitted.Seconds(), "submits/s")
		jobBaseline.Lock()
		if jobBaseline.perSec > 0 {
			b.ReportMetric(rate/jobBaseline.perSec, "ratio_to_chain_execute")
		}
		jobBaseline.Unlock()
	})
	// Latency below saturation: 4 clients, each submitting its next job
	// once the previous one finished, so no queue builds up; the time is
	// from the client starting the POST to the running transition (seen by
	// an in-process watcher).
	b.Run("http_latency", func(b *testing.B) {
		jb := newJobBench(b, 0)
		// The floor: one synced pebble commit on the same database, p50.
		var syncs []time.Duration
		for i := range 200 {
			t0 := time.Now()
			if err := jb.db.Set(fmt.Appendf(nil, "z/bench/%d", i), []byte("x"), pebble.Sync); err != nil {
				b.Fatal(err)
			}
			syncs = append(syncs, time.Since(t0))
		}
		slices.Sort(syncs)
		b.ReportMetric(float64(syncs[len(syncs)/2].Microseconds())/1e3, "p50_pebble_sync_ms")
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
		var next atomic.Int64
		var mu sync.Mutex
		var latencies, submits []time.Duration
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					i := next.Add(1)
					if i > int64(b.N) {
						return
					}
					t0 := time.Now()
					jid, err := jb.submit(hc, fmt.Sprintf("lat-%d", i), fmt.Sprintf("hello-%d", i))
					if err != nil {
						b.Error(err)
						return
					}
					t1 := time.Now()
					jb.wait(b, jid, func(j *job.Job) bool { return j.Status != job.Pending })
					lat := time.Since(t0)
					mu.Lock()
					latencies = append(latencies, lat)
					submits = append(submits, t1.Sub(t0))
					mu.Unlock()
					jb.wait(b, jid, func(j *job.Job) bool { return j.Status.Terminal() })
				}
			})
		}
		wg.Wait()
		slices.Sort(latencies)
		pct := func(p float64) float64 {
			return float64(latencies[min(len(latencies)-1, int(p*float64(len(latencies))))].Microseconds()) / 1e3
		}
		b.ReportMetric(pct(0.50), "p50_submit_to_running_ms")
		b.ReportMetric(pct(0.99), "p99_submit_to_running_ms")
		slices.Sort(submits)
		b.ReportMetric(float64(submits[len(submits)/2].Microseconds())/1e3, "p50_submit_ms")
	})
}

// submit POSTs one job and returns its id.
func (jb *jobBench) submit(hc *http.Client, rid, input string) (id.Job, error) {
	body, _ := json.Marshal(map[string]any{"request_id": rid, "program_id": jb.echo.String(),
		"input_base64": base64.StdEncoding.EncodeToString([]byte(input))})
	resp, err := hc.Post(jb.url+"/jobs", "application/json", bytes.NewReader(body))
	if err != nil {
		return id.Job{}, err
	}
	defer resp.Body.Close()
	var res wire.SubmitJobResult
	err = json.NewDecoder(resp.Body).Decode(&res)
	_, _ = io.Copy(io.Discard, resp.Body)
	if err != nil || resp.StatusCode != http.StatusCreated {
		return id.Job{}, fmt.Errorf("submit: %d %v", resp.StatusCode, err)
	}
	return id.ParseJob(res.JobID)
}

// wait blocks (on the job's changes, no polling) until until holds.
func (jb *jobBench) wait(b *testing.B, j id.Job, until func(*job.Job) bool) {
	got, err := jb.jobs.Wait(context.Background(), j, until)
	if err != nil || !until(got) {
		b.Errorf("wait for job %s: %v", j, err)
	}
}
