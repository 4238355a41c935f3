package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/onvm-network/onvm/client/wire"
	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/job"
	"github.com/onvm-network/onvm/internal/program"
	"github.com/onvm-network/onvm/internal/state"
)

// newJobNode is a test node with program and job routes over a real
// engine and job service (one worker), all on a clock fixed at fixedNow, so
// that every id, receipt and time in the answers is reproducible.
func newJobNode(t testing.TB, extra ...func(*Options)) *testNode {
	t.Helper()
	return newTestNode(t, func(o *Options) {
		db, err := pebble.Open(filepath.Join(t.TempDir(), "db"), &pebble.Options{Logger: quietPebble{}})
		if err != nil {
			t.Fatal(err)
		}
		st, err := state.Open(db)
		if err != nil {
			t.Fatal(err)
		}
		keys := nodeKeys(t, 1)
		clock := func() time.Time { return fixedNow }
		o.Registry = prometheus.NewRegistry()
		eng, err := chain.New(chain.Options{
			DB: db, State: st, Catalog: program.NewCatalog(db, chain.BlobCode{Blobs: o.Blobs}), Blobs: o.Blobs,
			Runtime: sharedRuntime(t), Keys: keys, Now: clock, Limits: chain.Limits{MaxFuel: 3_000_000_000},
		})
		if err != nil {
			t.Fatal(err)
		}
		js, err := job.Open(context.Background(), job.Options{
			DB: db, Exec: eng, Blobs: o.Blobs, Key: keys.Ed25519, Workers: 1, Now: clock, Registerer: o.Registry,
		})
		if err != nil {
			t.Fatal(err)
		}
		o.Programs, o.JobService = eng, js
		for _, f := range extra {
			f(o)
		}
		t.Cleanup(func() { // runs after the server has shut down
			js.Close()
			eng.Close()
			db.Close()
		})
	})
}

func jobWasm(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "job", "testdata", name+".wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// submitJob POSTs body to /jobs and returns the status and body.
func (n *testNode) submitJob(body map[string]any) (int, []byte) {
	n.t.Helper()
	resp, b := n.do("POST", "/jobs", jsonHeader, jsonBody(n.t, body))
	return resp.StatusCode, b
}

func jobID(t testing.TB, body []byte) string {
	t.Helper()
	var res wire.SubmitJobResult
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return res.JobID
}

// TestJobRoutes drives every job route through its answers, comparing
// each body with a golden file.
func TestJobRoutes(t *testing.T) {
	n := newJobNode(t)
	echo := n.deployJSON(jobWasm(t, "kv"), "echo", "s")
	loop := n.deployJSON(jobWasm(t, "limits"), "forever", "s")
	in := base64.StdEncoding.EncodeToString([]byte("hello"))
	req := map[string]any{"request_id": "req-1", "program_id": echo, "input_base64": in, "metadata": map[string]string{"team": "a"}}

	code, body := n.submitJob(req)
	if code != http.StatusCreated {
		t.Fatalf("submit: %d %s", code, body)
	}
	jobGolden(t, "jobs_submit_created.json", body)
	jid := jobID(t, body)
	resp, body := n.do("GET", "/jobs/"+jid+"?wait=10s", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"status":"completed"`) {
		t.Fatalf("long-poll: %d %s", resp.StatusCode, body)
	}
	jobGolden(t, "jobs_get_completed.json", body)
	// Idempotent: the same payload is the same job (200); another is a conflict naming the fields.
	code, body = n.submitJob(req)
	if code != http.StatusOK {
		t.Fatalf("resubmit: %d %s", code, body)
	}
	jobGolden(t, "jobs_submit_existing.json", body)
	req2 := map[string]any{"request_id": "req-1", "program_id": echo, "input_base64": "b3RoZXI=", "max_retries": 7}
	code, body = n.submitJob(req2)
	if code != http.StatusConflict {
		t.Fatalf("conflict: %d %s", code, body)
	}
	jobGolden(t, "jobs_submit_conflict.json", body)

	for _, tc := range []struct {
		name, method, path string
		body               map[string]any
		want               int
	}{
		{"jobs_output.json", "GET", "/jobs/" + jid + "/output", nil, 200},
		{"jobs_logs.json", "GET", "/jobs/" + jid + "/logs", nil, 200},
		{"jobs_cancel_terminal.json", "POST", "/jobs/" + jid + "/cancel", nil, 409},
		{"jobs_get_unknown.json", "GET", "/jobs/" + strings.Repeat("0", 64), nil, 404},
		{"jobs_get_bad_id.json", "GET", "/jobs/xyz", nil, 400},
		{"jobs_cancel_unknown.json", "POST", "/jobs/" + strings.Repeat("0", 64) + "/cancel", nil, 404},
		{"jobs_output_unknown.json", "GET", "/jobs/" + strings.Repeat("0", 64) + "/output", nil, 404},
		{"jobs_submit_unknown_program.json", "POST", "/jobs", map[string]any{"request_id": "x", "program_id": "prog" + strings.Repeat("0", 64)}, 404},
		{"jobs_submit_no_request_id.json", "POST", "/jobs", map[string]any{"program_id": echo}, 400},
		{"jobs_submit_bad_base64.json", "POST", "/jobs", map[string]any{"request_id": "x", "program_id": echo, "input_base64": "%%"}, 400},
		{"jobs_submit_too_large.json", "POST", "/jobs", map[string]any{"request_id": "x", "program_id": echo, "input_base64": base64.StdEncoding.EncodeToString(make([]byte, 1<<20+1))}, 413},
		{"jobs_list_bad_status.json", "GET", "/jobs?status=done", nil, 400},
		{"jobs_get_bad_wait.json", "GET", "/jobs/" + jid + "?wait=soon", nil, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r *reply
			var b []byte
			if tc.body != nil {
				r, b = n.do(tc.method, tc.path, jsonHeader, jsonBody(t, tc.body))
			} else {
				r, b = n.do(tc.method, tc.path, nil, nil)
			}
			if r.StatusCode != tc.want {
				t.Fatalf("%s %s: %d %s", tc.method, tc.path, r.StatusCode, b)
			}
			jobGolden(t, tc.name, b)
		})
	}

	// One worker busy with an endless guest; a second job waits: cancel
	// it while pending (its output is then 409), then cancel the running one.
	code, body = n.submitJob(map[string]any{"request_id": "busy", "program_id": loop, "timeout_ms": 30000, "fuel_limit": 3000000000})
	if code != http.StatusCreated {
		t.Fatalf("submit busy: %d %s", code, body)
	}
	busy := jobID(t, body)
	resp, body = n.do("GET", "/jobs/"+busy+"?wait=10s&status=pending", nil, nil)
	if !strings.Contains(string(body), `"status":"running"`) {
		t.Fatalf("busy job: %d %s", resp.StatusCode, body)
	}
	jobGolden(t, "jobs_get_running.json", body)
	var ready wire.Readiness
	n.getJSON("/health/readiness", &ready)
	if ready.Status != wire.ReadinessDegraded || ready.Capacity.MaxConcurrentJobs != 1 || ready.Capacity.CurrentJobs != 1 || ready.Resources.ActiveJobs != 1 {
		t.Fatalf("readiness with the worker busy: %+v", ready)
	}
	_, body = n.submitJob(map[string]any{"request_id": "waiting", "program_id": echo})
	waiting := jobID(t, body)
	n.getJSON("/health/readiness", &ready)
	if ready.Capacity.QueueDepth != 1 {
		t.Fatalf("queue depth %d", ready.Capacity.QueueDepth)
	}
	_, body = n.do("GET", "/jobs?status=pending", nil, nil)
	jobGolden(t, "jobs_list_pending.json", body)
	resp, body = n.do("POST", "/jobs/"+waiting+"/cancel", nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("cancel pending: %d %s", resp.StatusCode, body)
	}
	jobGolden(t, "jobs_cancel_pending.json", body)
	resp, body = n.do("GET", "/jobs/"+waiting+"/output", nil, nil)
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("output of a cancelled job: %d %s", resp.StatusCode, body)
	}
	jobGolden(t, "jobs_output_not_completed.json", body)
	resp, body = n.do("POST", "/jobs/"+busy+"/cancel", nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("cancel running: %d %s", resp.StatusCode, body)
	}
	jobGolden(t, "jobs_cancel_running.json", body)

	_, body = n.do("GET", "/jobs?limit=2", nil, nil)
	jobGolden(t, "jobs_list_page1.json", body)
	var page wire.JobPage
	if err := json.Unmarshal(body, &page); err != nil || page.NextCursor == nil || page.Total != 2 {
		t.Fatalf("page 1: %s", body)
	}
	_, body = n.do("GET", "/jobs?limit=2&cursor="+*page.NextCursor, nil, nil)
	jobGolden(t, "jobs_list_page2.json", body)
	_, body = n.do("GET", "/jobs?program_id="+loop, nil, nil)
	if !strings.Contains(string(body), busy) || strings.Contains(string(body), jid) {
		t.Fatalf("list by program: %s", body)
	}
	_, body = n.do("GET", "/health/metrics", nil, nil)
	var m wire.NodeMetrics
	if err := json.Unmarshal(body, &m); err != nil || m.TotalJobsCompleted != 1 || m.TotalJobsCancelled != 2 {
		t.Fatalf("metrics: %s", body)
	}
	_, body = n.do("GET", "/metrics", nil, nil)
	for _, name := range []string{"onvm_jobs_submitted_total", "onvm_jobs_transitions_total", "onvm_jobs_queue_depth", "onvm_jobs_attempt_duration_seconds", "onvm_jobs_fuel_consumed_total"} {
		if !strings.Contains(string(body), name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

// receiptRE matches receipt ids in job answers: they hash the runtime's
// environment (wasm env hash), which other layers change, so the golden
// files hold a placeholder; the tests that verify receipts are the chain's.
var receiptRE = regexp.MustCompile(`("receipt_id":"|receipt )[0-9a-f]{64}`)

func jobGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden(t, name, receiptRE.ReplaceAll(got, []byte("${1}<receipt>")))
}
