package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/client/wire"
	"github.com/onvm-network/onvm/internal/job"
	"github.com/onvm-network/onvm/internal/wasm"
)

// recorder keeps the body of the last answer a client received.
type recorder struct{ last []byte }

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	r.last = b
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// TestAnswersRoundTripThroughClient calls every JSON route through the
// public client and requires that what the client decoded, encoded again,
// is exactly what the node sent: a field the node writes that the client's
// type lacks, or one the client expects that the node does not write,
// fails here.
func TestAnswersRoundTripThroughClient(t *testing.T) {
	d, vid := testDAG(t)
	n := newJobNode(t, func(o *Options) { o.Network, o.DAG, o.MinPeers = fakeNetwork{}, d, 1 })
	rec := &recorder{}
	c, err := client.New(n.url, client.WithHTTPClient(&http.Client{Transport: rec}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	check := func(route string, v any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", route, err)
		}
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var sent, decoded any
		if err := json.Unmarshal(rec.last, &sent); err != nil {
			t.Fatalf("%s: %v: %s", route, err, rec.last)
		}
		_ = json.Unmarshal(again, &decoded)
		if diff := cmp.Diff(sent, decoded); diff != "" {
			t.Errorf("%s: the client's type does not carry the node's answer (-sent +decoded):\n%s", route, diff)
		}
	}

	data := []byte("hello, wire")
	ref, err := c.UploadBlob(ctx, bytes.NewReader(data), int64(len(data)), "text/plain")
	check("POST /blobs", ref, err)
	info, err := c.BlobInfo(ctx, ref.ID)
	check("GET /blobs/{id}/info", info, err)

	prog, err := c.Deploy(ctx, client.DeployRequest{Wasm: jobWasm(t, "kv"), Entrypoint: "echo", BlobRefs: []string{ref.ID}, Salt: []byte("s")})
	check("POST /programs", prog, err)
	got, err := c.Program(ctx, prog.ID)
	check("GET /programs/{id}", got, err)
	cat, err := c.Catalog(ctx, "", 0)
	check("GET /program-catalog", cat, err)
	com, err := c.Committee(ctx, prog.ID)
	check("GET /programs/{id}/committee", com, err)
	res, err := c.Execute(ctx, client.ExecuteRequest{ProgramID: prog.ID, Input: []byte("x"), RequestID: "r1"})
	check("POST /execute", res, err)
	sr, err := c.StateRoot(ctx, prog.ID, []byte("k"), client.StateQuery{})
	check("GET /programs/{id}/state-root", sr, err)
	rp, err := c.Receipts(ctx, prog.ID, "", 0)
	check("GET /programs/{id}/receipts", rp, err)
	r, err := c.Receipt(ctx, res.ReceiptID)
	check("GET /receipts/{id}", r, err)

	sub, err := c.SubmitJob(ctx, client.SubmitJobRequest{RequestID: "j1", ProgramID: prog.ID, Input: []byte("in"),
		Metadata: map[string]string{"team": "a"}})
	check("POST /jobs", sub, err)
	j, err := c.WaitJob(ctx, sub.JobID, "", 30*time.Second)
	check("GET /jobs/{id}?wait=", j, err)
	if j.Status != wire.JobCompleted {
		t.Fatalf("job %s", j.Status)
	}
	j, err = c.Job(ctx, sub.JobID)
	check("GET /jobs/{id}", j, err)
	out, err := c.JobOutput(ctx, sub.JobID)
	check("GET /jobs/{id}/output", out, err)
	logs, err := c.JobLogs(ctx, sub.JobID)
	check("GET /jobs/{id}/logs", logs, err)
	page, err := c.Jobs(ctx, client.JobQuery{Status: wire.JobCompleted})
	check("GET /jobs", page, err)

	live, err := c.Liveness(ctx)
	check("GET /health/liveness", live, err)
	ready, err := c.Readiness(ctx)
	check("GET /health/readiness", ready, err)
	auth, err := c.CheckAuth(ctx)
	check("GET /auth/check", auth, err)

	peers, err := c.Peers(ctx)
	check("GET /peers", peers, err)
	heads, err := c.DAGHeads(ctx)
	check("GET /dag/heads", heads, err)
	v, err := c.DAGVertex(ctx, vid.String())
	check("GET /dag/vertices/{id}", v, err)
	authors, err := c.DAGAuthors(ctx)
	check("GET /dag/authors", wire.DAGAuthors{Authors: authors}, err)
	eq, err := c.DAGEquivocations(ctx, 0)
	check("GET /dag/equivocations", eq, err)

	// An error answer decodes into the error body and nothing else.
	_, err = c.Job(ctx, strings.Repeat("0", 64))
	var body wire.ErrorBody
	if !strings.Contains(string(rec.last), wire.CodeNotFound) || json.Unmarshal(rec.last, &body) != nil {
		t.Fatalf("unknown job: %v %s", err, rec.last)
	}
	check("error body", body, nil)
}

// TestJobStatusTable: every state of the job package has one API name,
// no two share one, terminal states stay terminal, and parsing inverts it.
func TestJobStatusTable(t *testing.T) {
	seen := map[wire.JobStatus]bool{}
	for _, s := range job.Statuses {
		w := jobStatus(s)
		if !w.Valid() || seen[w] || w.Terminal() != s.Terminal() {
			t.Errorf("%v → %q (seen %v)", s, w, seen[w])
		}
		seen[w] = true
		if back, err := parseJobStatus(string(w)); err != nil || back != s {
			t.Errorf("parse %q = %v, %v", w, back, err)
		}
	}
	if len(seen) != len(wire.JobStatuses) {
		t.Errorf("%d API states for %d job states", len(wire.JobStatuses), len(seen))
	}
}

// TestRuntimeKindsAreWireCodes: a guest failure's code is its runtime
// kind's name, so each must be one of the published codes.
func TestRuntimeKindsAreWireCodes(t *testing.T) {
	codes := map[string]bool{wire.CodeTrap: true, wire.CodeOutOfFuel: true, wire.CodeOutOfMemory: true,
		wire.CodeCallDepthExceeded: true, wire.CodeTimeout: true, wire.CodeCancelled: true, wire.CodeInvalidModule: true,
		wire.CodeInvalidInput: true, wire.CodeOutputTooLarge: true, wire.CodeWritesTooLarge: true}
	for k := wasm.KindTrap; k <= wasm.KindWritesTooLarge; k++ {
		if !codes[k.String()] {
			t.Errorf("kind %s is not a wire code", k)
		}
	}
}
