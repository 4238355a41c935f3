package job

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/id"
)

// TestEchoJob runs a job end to end: completed with the output stored as
// a blob, a receipt whose request id is the job id, and a log.
func TestEchoJob(t *testing.T) {
	e := newEnv(t)
	p := e.deploy("echo", "onvm_main", "s")
	j := e.submit(SubmitRequest{RequestID: "r1", Program: p, Input: []byte("hello jobs"), Metadata: map[string]string{"k": "v"}})
	if j.ID != id.JobOf(p, "r1") || j.Status != Pending || !j.HasInput || j.Input != id.BlobOf([]byte("hello jobs")) {
		t.Fatalf("submitted %+v", j)
	}
	done := e.waitFor(j.ID, "completion", terminal)
	if done.Status != Completed || done.Attempts != 1 || done.Receipt.IsZero() || done.OutputSize != int64(len("HELLO JOBS")) {
		t.Fatalf("job %+v", done)
	}
	out, _, err := e.svc.Output(t.Context(), j.ID)
	if err != nil || string(out) != "HELLO JOBS" {
		t.Fatalf("output %q %v", out, err)
	}
	rec, err := e.engine.Receipt(done.Receipt)
	if err != nil || rec.Receipt.Receipt.RequestID != chain.RequestKey(p, "r1") {
		t.Fatalf("receipt %v %v", rec, err)
	}
	logs, err := e.svc.Logs(j.ID)
	if err != nil || len(logs) < 3 || !strings.Contains(logs[len(logs)-1].Message, "completed") {
		t.Fatalf("logs %+v %v", logs, err)
	}
	st := e.svc.Stats()
	if st.Totals.Completed != 1 || st.Pending != 0 || st.Running != 0 {
		t.Fatalf("stats %+v", st)
	}
	// The inline input and the output reach the blob store in the background.
	deadline := time.Now().Add(30 * time.Second)
	for e.svc.Stats().Copies < 2 {
		if time.Now().After(deadline) {
			t.Fatal("input and output not copied into the blob store")
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
	for _, b := range []id.Blob{done.Input, done.Output} {
		if info, err := e.blobs.Stat(t.Context(), b); err != nil || !info.Complete {
			t.Fatalf("blob %s: %+v %v", b, info, err)
		}
	}
	if n, _ := countPrefix(e.db, []byte(nsCopy)); n != 0 {
		t.Fatalf("%d copies still queued", n)
	}
}

// TestIdempotentSubmit: the same request id and payload is the same job
// (no second execution); another payload is a conflict naming the fields.
func TestIdempotentSubmit(t *testing.T) {
	e := newEnv(t)
	p := e.deploy("kv", "put", "s")
	req := SubmitRequest{RequestID: "put-1", Program: p, Input: []byte("k1"), MaxRetries: ptr(uint32(2))}
	first, created, err := e.svc.Submit(t.Context(), req)
	if err != nil || !created {
		t.Fatalf("first: %v %v", created, err)
	}
	e.waitFor(first.ID, "completion", terminal)
	again, created, err := e.svc.Submit(t.Context(), req)
	if err != nil || created || again.ID != first.ID || again.Status != Completed {
		t.Fatalf("again: %+v %v %v", again, created, err)
	}
	// The same bytes by blob id are the same payload.
	byBlob := req
	byBlob.Input, byBlob.InputBlob = nil, ptr(id.BlobOf(req.Input))
	if _, created, err := e.svc.Submit(t.Context(), byBlob); err != nil || created {
		t.Fatalf("by blob id: %v %v", created, err)
	}
	if h := e.head(p); h != 1 {
		t.Fatalf("height %d after resubmissions, want 1", h)
	}
	other := req
	other.Input = []byte("k2")
	other.Metadata = map[string]string{"a": "b"}
	_, _, err = e.svc.Submit(t.Context(), other)
	var ce *ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, ErrConflict) || strings.Join(ce.Fields, ",") != "input,metadata" {
		t.Fatalf("conflict: %v", err)
	}
	// The same request id for another program is another job.
	p2 := e.deploy("kv", "put", "t")
	j2, created, err := e.svc.Submit(t.Context(), SubmitRequest{RequestID: "put-1", Program: p2})
	if err != nil || !created || j2.ID == first.ID {
		t.Fatalf("other program: %v %v", created, err)
	}
}

func TestSubmitRejects(t *testing.T) {
	e := newEnv(t, withOptions(func(o *Options) { o.MaxPending = 1; o.Workers = 1 }))
	p := e.deploy("limits", "forever", "s")
	for _, tc := range []struct {
		name string
		req  SubmitRequest
		want error
	}{
		{"no request id", SubmitRequest{Program: p}, ErrInvalid},
		{"unknown program", SubmitRequest{RequestID: "x", Program: id.Program{7}}, chain.ErrNotFound},
		{"both inputs", SubmitRequest{RequestID: "x", Program: p, Input: []byte("a"), InputBlob: &id.Blob{}}, ErrInvalid},
		{"input too large", SubmitRequest{RequestID: "x", Program: p, Input: make([]byte, 2<<20)}, ErrInputTooLarge},
		{"retries", SubmitRequest{RequestID: "x", Program: p, MaxRetries: ptr(uint32(MaxRetriesLimit + 1))}, ErrInvalid},
		{"negative ttl", SubmitRequest{RequestID: "x", Program: p, TTLMS: -1}, ErrInvalid},
		{"metadata key", SubmitRequest{RequestID: "x", Program: p, Metadata: map[string]string{"": "v"}}, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := e.svc.Submit(t.Context(), tc.req); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// A full queue is an error, not a buffer: one running, one pending, the third refused.
	a := e.submit(SubmitRequest{RequestID: "a", Program: p, TimeoutMS: 30_000, FuelLimit: loopFuel})
	e.waitFor(a.ID, "running", statusIs(Running))
	e.submit(SubmitRequest{RequestID: "b", Program: p, TimeoutMS: 30_000, FuelLimit: loopFuel})
	if _, _, err := e.svc.Submit(t.Context(), SubmitRequest{RequestID: "c", Program: p}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("full queue: %v", err)
	}
	if _, err := e.svc.Cancel(t.Context(), a.ID); err != nil {
		t.Fatal(err)
	}
}

// TestCancelPending: a pending job cancelled never runs.
func TestCancelPending(t *testing.T) {
	e := newEnv(t, withOptions(func(o *Options) { o.Workers = 1 }))
	p := e.deploy("limits", "forever", "s")
	busy := e.submit(SubmitRequest{RequestID: "busy", Program: p, TimeoutMS: 30_000, FuelLimit: loopFuel})
	e.waitFor(busy.ID, "running", statusIs(Running))
	q := e.submit(SubmitRequest{RequestID: "queued", Program: p})
	got, err := e.svc.Cancel(t.Context(), q.ID)
	if err != nil || got.Status != Cancelled {
		t.Fatalf("cancel: %+v %v", got, err)
	}
	if _, err := e.svc.Cancel(t.Context(), q.ID); !errors.Is(err, ErrTerminal) {
		t.Fatalf("second cancel: %v", err)
	}
	if _, err := e.svc.Cancel(t.Context(), id.Job{1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	if _, err := e.svc.Cancel(t.Context(), busy.ID); err != nil {
		t.Fatal(err)
	}
	e.waitFor(busy.ID, "cancelled", terminal)
	// The worker is free again and the cancelled job never ran.
	next := e.submit(SubmitRequest{RequestID: "after", Program: e.deploy("kv", "echo", "s"), Input: []byte("x")})
	e.waitFor(next.ID, "completion", statusIs(Completed))
	if j, _ := e.svc.Get(q.ID); j.Status != Cancelled || j.Attempts != 0 {
		t.Fatalf("cancelled pending job: %+v", j)
	}
	if st := e.svc.Stats(); st.Totals.Cancelled != 2 || st.Pending != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestCancelRunning cancels a guest that wrote state and then loops: the
// guest stops, the job stays cancelled, nothing is committed.
func TestCancelRunning(t *testing.T) {
	e := newEnv(t)
	p := e.deploy("limits", "spin", "s")
	j := e.submit(SubmitRequest{RequestID: "spin", Program: p, TimeoutMS: 60_000, FuelLimit: loopFuel})
	e.waitFor(j.ID, "running", statusIs(Running))
	got, err := e.svc.Cancel(t.Context(), j.ID)
	if err != nil || got.Status != Cancelled {
		t.Fatalf("cancel: %+v %v", got, err)
	}
	waitIdle(t, e)
	after, _ := e.svc.Get(j.ID)
	if after.Status != Cancelled || after.Attempts != 1 || after.Receipt != (id.Hash{}) {
		t.Fatalf("after the attempt ended: %+v", after)
	}
	if h := e.head(p); h != 0 {
		t.Fatalf("cancelled job committed height %d", h)
	}
	if _, _, err := e.svc.Output(t.Context(), j.ID); !errors.Is(err, ErrNotCompleted) {
		t.Fatalf("output of a cancelled job: %v", err)
	}
}

// waitIdle waits until no attempt runs (the cancelled guest has stopped).
func waitIdle(t *testing.T, e *env) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for e.svc.Stats().Running != 0 {
		if time.Now().After(deadline) {
			t.Fatal("an attempt is still running")
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
}

// TestCancelBetweenGuestAndCommit cancels a job after its guest finished
// and before its transition commits: the commit is aborted (kvstore state
// unchanged) and the job never reports completed.
func TestCancelBetweenGuestAndCommit(t *testing.T) {
	guestDone := make(chan id.Job, 1)
	release := make(chan struct{})
	e := newEnv(t, withExec(func(x Executor) Executor {
		return hookExec{Executor: x, before: func(j id.Job) { guestDone <- j; <-release }}
	}))
	p := e.deploy("kv", "put", "s")
	j := e.submit(SubmitRequest{RequestID: "race", Program: p, Input: []byte("k")})
	if got := <-guestDone; got != j.ID {
		t.Fatalf("hook for %s", got)
	}
	if c, err := e.svc.Cancel(t.Context(), j.ID); err != nil || c.Status != Cancelled {
		t.Fatalf("cancel: %+v %v", c, err)
	}
	close(release)
	waitIdle(t, e)
	if got, _ := e.svc.Get(j.ID); got.Status != Cancelled {
		t.Fatalf("job is %s after its transition was refused", got.Status)
	}
	if h := e.head(p); h != 0 {
		t.Fatalf("cancelled job's transition committed (height %d)", h)
	}
	if v, ok, _ := e.state.Get(p, []byte("k")); ok {
		t.Fatalf("cancelled job's write is visible: %q", v)
	}
	if st := e.svc.Stats(); st.Totals.Completed != 0 || st.Totals.Cancelled != 1 {
		t.Fatalf("totals %+v", st.Totals)
	}
}

// hookExec calls before(job) after the guest ran, just before the job's
// pre-commit hook.
type hookExec struct {
	Executor
	before func(id.Job)
}

func (h hookExec) Execute(ctx context.Context, req chain.Request) (*chain.Outcome, error) {
	inner := req.PreCommit
	j := id.JobOf(req.Program, req.RequestID)
	req.PreCommit = func(b *pebble.Batch, o *chain.Outcome) (func(bool), error) {
		h.before(j)
		return inner(b, o)
	}
	return h.Executor.Execute(ctx, req)
}

// TestTimeout: the job's wall-clock limit stops the guest; timed_out, not
// retried, nothing committed.
func TestTimeout(t *testing.T) {
	e := newEnv(t)
	p := e.deploy("limits", "spin", "s")
	j := e.submit(SubmitRequest{RequestID: "slow", Program: p, TimeoutMS: 200, FuelLimit: loopFuel, MaxRetries: ptr(uint32(3))})
	done := e.waitFor(j.ID, "timeout", terminal)
	if done.Status != TimedOut || done.Reason != ReasonTimeout || done.Attempts != 1 || done.RetryCount != 0 {
		t.Fatalf("job %+v", done)
	}
	if d, _ := done.DurationMS(); d < 200 || d > 10_000 {
		t.Fatalf("duration %d ms for a 200 ms limit", d)
	}
	if h := e.head(p); h != 0 {
		t.Fatalf("timed out job committed height %d", h)
	}
}

// TestTrapNotRetried: a deterministic failure fails at once.
func TestTrapNotRetried(t *testing.T) {
	e := newEnv(t)
	p := e.deploy("limits", "div0", "s")
	j := e.submit(SubmitRequest{RequestID: "trap", Program: p, MaxRetries: ptr(uint32(5))})
	done := e.waitFor(j.ID, "failure", terminal)
	if done.Status != Failed || done.Reason != ReasonExecutionError || done.Attempts != 1 || done.RetryCount != 0 || done.Error == "" {
		t.Fatalf("job %+v", done)
	}
	fuel := e.deploy("limits", "forever", "f")
	j = e.submit(SubmitRequest{RequestID: "fuel", Program: fuel, FuelLimit: 10_000, MaxRetries: ptr(uint32(5))})
	if done := e.waitFor(j.ID, "failure", terminal); done.Status != Failed || done.Reason != ReasonOutOfFuel || done.Attempts != 1 || done.FuelConsumed == 0 {
		t.Fatalf("out of fuel: %+v", done)
	}
}

// TestRetryMissingCode: a program whose manifest is known but whose code
// is not stored here yet fails transiently; once the code arrives, the
// retry completes.
func TestRetryMissingCode(t *testing.T) {
	src := newEnv(t)
	p := src.deploy("kv", "echo", "s")
	m, err := src.engine.Manifest(p)
	if err != nil {
		t.Fatal(err)
	}
	dst := newEnv(t, withOptions(func(o *Options) { o.Backoff = Backoff{Base: 50 * time.Millisecond, Max: 200 * time.Millisecond} }))
	if _, _, err := dst.engine.Catalog().Put(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	j := dst.submit(SubmitRequest{RequestID: "late-code", Program: p, Input: []byte("abc"), MaxRetries: ptr(uint32(50))})
	retried := dst.waitFor(j.ID, "a retry", func(j *Job) bool { return j.RetryCount >= 1 || j.Status.Terminal() })
	if retried.Status != Pending || retried.Reason != ReasonMissingDependency || retried.NextAttemptAt == 0 {
		t.Fatalf("after the first failure: %+v", retried)
	}
	for _, b := range []id.Blob{m.Body.CodeBlob, m.Body.Instrumented} {
		copyBlob(t, src, dst, b)
	}
	done := dst.waitFor(j.ID, "completion", terminal)
	if done.Status != Completed || done.Attempts < 2 {
		t.Fatalf("job %+v", done)
	}
	if out, _, err := dst.svc.Output(t.Context(), j.ID); err != nil || string(out) != "abc" {
		t.Fatalf("output %q %v", out, err)
	}
	logs, _ := dst.svc.Logs(j.ID)
	if !strings.Contains(logText(logs), "failed (missing_dependency)") {
		t.Fatalf("logs lack the transient failure:\n%s", logText(logs))
	}
}

func copyBlob(t *testing.T, from, to *env, b id.Blob) {
	t.Helper()
	r, err := from.blobs.Open(t.Context(), b)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, _, err := to.blobs.Put(t.Context(), r, ""); err != nil {
		t.Fatal(err)
	}
}

func logText(logs []LogEntry) string {
	var sb strings.Builder
	for _, l := range logs {
		sb.WriteString(l.Level + " " + l.Source + " " + l.Message + "\n")
	}
	return sb.String()
}

// TestExpire: a pending job whose ttl runs out while it waits for a
// worker is expired, by the queue timer, without running.
func TestExpire(t *testing.T) {
	e := newEnv(t, withOptions(func(o *Options) { o.Workers = 1 }))
	p := e.deploy("limits", "forever", "s")
	busy := e.submit(SubmitRequest{RequestID: "busy", Program: p, TimeoutMS: 1000, FuelLimit: loopFuel})
	e.waitFor(busy.ID, "running", statusIs(Running))
	j := e.submit(SubmitRequest{RequestID: "ttl", Program: p, TTLMS: 100})
	done := e.waitFor(j.ID, "expiry", terminal)
	if done.Status != Expired || done.Attempts != 0 {
		t.Fatalf("job %+v", done)
	}
	if st := e.svc.Stats(); st.Totals.Expired != 1 {
		t.Fatalf("totals %+v", st.Totals)
	}
}

// TestExpireDuringBackoff: a job waiting for a retry far away expires by
// the queue timer when its ttl runs out.
func TestExpireDuringBackoff(t *testing.T) {
	src := newEnv(t)
	p := src.deploy("kv", "echo", "s")
	m, _ := src.engine.Manifest(p)
	dst := newEnv(t, withOptions(func(o *Options) { o.Backoff = Backoff{Base: time.Hour, Max: time.Hour} }))
	if _, _, err := dst.engine.Catalog().Put(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	j := dst.submit(SubmitRequest{RequestID: "r", Program: p, TTLMS: 300})
	done := dst.waitFor(j.ID, "expiry", terminal)
	if done.Status != Expired || done.Attempts != 1 || done.RetryCount != 1 || done.CompletedAt-done.CreatedAt > 5_000 {
		t.Fatalf("job %+v", done)
	}
}
