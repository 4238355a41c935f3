package job

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/kv"
	"github.com/onvm-network/onvm/internal/wasm"
)

// TestBackoffTiming checks, on a fake clock, that each retry starts
// exactly its backoff after the failure before it — not after the job's
// creation or the attempt's start — and that the last transient failure
// is final.
func TestBackoffTiming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const attemptTime = 7 * time.Second // each failing attempt runs this long
		f := newFakeEnv(t, nil, func(o *Options) {
			o.Backoff = Backoff{Base: 2 * time.Second, Max: 10 * time.Second}
			o.Rand = func() float64 { return 0.5 }
		})
		f.exec.fail = func(n int) error {
			time.Sleep(attemptTime)
			return fmt.Errorf("load code: %w", blob.ErrNotFound)
		}
		start := time.Now()
		j := f.submit(t, "r")
		j.MaxRetries = DefaultMaxRetries
		done := f.wait(t, j.ID, terminal)
		if done.Status != Failed || done.Reason != ReasonMissingDependency || done.RetryCount != 3 || done.Attempts != 4 {
			t.Fatalf("job %+v", done)
		}
		calls := f.exec.callTimes()
		// Delays with jitter 0.5: 0.75 × min(10s, 2s·2^(n−1)) = 1.5s, 3s, 6s.
		want := []time.Duration{0, attemptTime + 1500*time.Millisecond, 2*attemptTime + 4500*time.Millisecond, 3*attemptTime + 10500*time.Millisecond}
		if len(calls) != len(want) {
			t.Fatalf("%d attempts, want %d", len(calls), len(want))
		}
		for i, c := range calls {
			if got := c.Sub(start); got != want[i] {
				t.Errorf("attempt %d at %v, want %v", i+1, got, want[i])
			}
		}
	})
}

// TestRetryThenSucceed: transient failures, then success; the attempt
// count, retry count and logs tell the story.
func TestRetryThenSucceed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeEnv(t, nil, func(o *Options) { o.Rand = func() float64 { return 0 } })
		f.exec.fail = func(n int) error {
			if n < 3 {
				return &wasm.Error{Kind: wasm.KindCancelled} // stopped by no one: requeued, not counted
			}
			return nil
		}
		j := f.submit(t, "r")
		done := f.wait(t, j.ID, terminal)
		if done.Status != Completed || done.RetryCount != 0 || done.Attempts != 3 {
			t.Fatalf("job %+v", done)
		}
	})
}

// TestDeterministicFailuresNotRetried: every guest failure kind but the
// timeout fails at once.
func TestDeterministicFailuresNotRetried(t *testing.T) {
	for _, k := range []wasm.ErrorKind{wasm.KindTrap, wasm.KindOutOfFuel, wasm.KindOutOfMemory, wasm.KindCallDepth, wasm.KindInvalidModule, wasm.KindInvalidInput, wasm.KindOutputTooLarge, wasm.KindWritesTooLarge} {
		t.Run(k.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFakeEnv(t, nil, nil)
				f.exec.fail = func(int) error { return &wasm.Error{Kind: k, FuelUsed: 5} }
				done := f.wait(t, f.submit(t, "r").ID, terminal)
				if done.Status != Failed || done.Attempts != 1 || done.RetryCount != 0 || done.FuelConsumed != 5 {
					t.Fatalf("job %+v", done)
				}
			})
		})
	}
}

// TestQueueAtScale queues 10,000 jobs while every worker is blocked, then
// lets them run: the scheduler holds nothing per queued job in memory, the
// heap does not grow with the queue, and the dispatcher visits each queue
// key about once — no per-tick scan.
func TestQueueAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 jobs")
	}
	const n = 10_000
	f := newFakeEnv(t, vfs.NewMem(), func(o *Options) { o.Workers = 4 })
	f.exec.block = make(chan struct{})
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	// Submit concurrently (their syncs group-commit).
	var wg sync.WaitGroup
	ids := make([]id.Job, n)
	before := heap()
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				j, _, err := f.svc.Submit(context.Background(), SubmitRequest{RequestID: fmt.Sprintf("job-%05d", i), Program: id.Program{1}})
				if err != nil {
					t.Error(err)
					return
				}
				ids[i] = j.ID
			}
		})
	}
	wg.Wait()
	st := f.svc.Stats()
	if st.Pending != n-st.Running || st.Running != 4 {
		t.Fatalf("stats with blocked workers: %+v", st)
	}
	grown := int64(heap()) - int64(before)
	t.Logf("heap growth with %d queued jobs: %d KiB (pebble memtable included)", n, grown>>10)
	if grown > 64<<20 {
		t.Fatalf("heap grew %d MiB with the queue", grown>>20)
	}
	if st.Locks > 8 || st.Watching != 0 {
		t.Fatalf("per-job state held in memory: %+v", st)
	}
	close(f.exec.block)
	for _, j := range ids {
		f.wait(t, j, terminal)
	}
	st = f.svc.Stats()
	if st.Totals.Completed != n || st.Claims != n || st.Pending != 0 {
		t.Fatalf("after the burst: %+v", st)
	}
	// Each claim visits its own key; a wake-up with nothing due visits at
	// most one more. A scan per tick would be n²/2.
	if st.ScannedKeys > 2*n {
		t.Fatalf("dispatcher visited %d queue keys for %d jobs", st.ScannedKeys, n)
	}
	t.Logf("dispatcher visited %d queue keys for %d jobs", st.ScannedKeys, n)
}

// TestRestartRequeues: jobs running when the service stops, and jobs a
// crash left running, run again after the next start — exactly once to
// completion.
func TestRestartRequeues(t *testing.T) {
	fs := vfs.NewMem()
	f := newFakeEnv(t, fs, func(o *Options) { o.Workers = 1; o.Now = tickingClock() })
	f.exec.block = make(chan struct{})
	a := f.submit(t, "a")
	b := f.submit(t, "b")
	f.wait(t, a.ID, statusIs(Running))
	f.close(t) // stops a's attempt: requeued
	for _, j := range []id.Job{a.ID, b.ID} {
		got, ok, err := load(f.db, j)
		if err != nil || !ok || got.Status != Pending {
			t.Fatalf("after close %s: %+v %v", j, got, err)
		}
	}
	// A crash: a record left running with no process behind it.
	c := Job{ID: id.JobOf(id.Program{1}, "c"), RequestID: "c", Program: id.Program{1}, Status: Running, CreatedAt: 1, StartedAt: 2, Attempts: 1}
	bt := f.db.NewBatch()
	if err := stage(bt, nil, &c); err != nil {
		t.Fatal(err)
	}
	if err := bt.Commit(nil); err != nil {
		t.Fatal(err)
	}
	f.exec.block = nil
	f.open(t)
	for _, j := range []id.Job{a.ID, b.ID, c.ID} {
		if got := f.wait(t, j, terminal); got.Status != Completed {
			t.Fatalf("%s: %+v", j, got)
		}
	}
	logs, _ := f.svc.Logs(c.ID)
	if txt := logText(logs); !strings.Contains(txt, "node restarted during attempt 1") {
		t.Fatalf("recovered job's log:\n%s", txt)
	}
	if got, _ := f.svc.Get(a.ID); got.Attempts != 2 || got.RetryCount != 0 {
		t.Fatalf("requeued job: %+v", got)
	}
}

// TestTotalsPersist: the /health/metrics totals survive a restart.
func TestTotalsPersist(t *testing.T) {
	fs := vfs.NewMem()
	f := newFakeEnv(t, fs, nil)
	f.exec.fail = func(n int) error {
		if n == 2 {
			return &wasm.Error{Kind: wasm.KindTrap, FuelUsed: 10}
		}
		return nil
	}
	for _, r := range []string{"a", "b", "c"} {
		f.wait(t, f.submit(t, r).ID, terminal)
	}
	want := f.svc.Stats().Totals
	if want.Completed != 2 || want.Failed != 1 || want.Fuel != 12 {
		t.Fatalf("totals %+v", want)
	}
	f.close(t)
	f.opts.Workers = 1 // fewer workers: the other lanes still count
	f.open(t)
	if got := f.svc.Stats(); got.Totals != want || got.AvgExecMS < 0 {
		t.Fatalf("after restart %+v, want %+v", got.Totals, want)
	}
}

// TestLogsBounded: a job's log keeps at most max_log_bytes, ending with a
// truncation note.
func TestLogsBounded(t *testing.T) {
	e := newEnv(t, withOptions(func(o *Options) { o.MaxLogBytes = 1000 }))
	p := e.deploy("kv", "chatty", "s")
	j := e.submit(SubmitRequest{RequestID: "r", Program: p, Input: []byte("0123456789012345678901234567890123456789")})
	if done := e.waitFor(j.ID, "completion", terminal); done.Status != Completed {
		t.Fatalf("job %+v", done)
	}
	logs, err := e.svc.Logs(j.ID)
	if err != nil {
		t.Fatal(err)
	}
	size := 0
	for _, l := range logs {
		size += len(l.Message) + logOverhead
	}
	last := logs[len(logs)-1]
	if size > 1000+200 || !strings.Contains(last.Message, "log truncated") || len(logs) > 30 {
		t.Fatalf("%d entries, %d bytes, last %+v", len(logs), size, last)
	}
}

// TestReplication: terminal records are staged in the outbox in the batch
// of the terminal state, signed and verifiable; Import accepts a peer's
// terminal record (never running it) and refuses forged or non-terminal
// ones.
func TestReplication(t *testing.T) {
	box := &outboxRecorder{db: nil}
	f := newFakeEnv(t, nil, func(o *Options) { box.db = o.DB; o.Outbox = box })
	j := f.wait(t, f.submit(t, "r").ID, terminal)
	if rs := box.committed(t); len(rs) != 1 || rs[0].Job != j.ID || rs[0].Status != op.JobSucceeded || rs[0].Verify() != nil || rs[0].Output != j.Output {
		t.Fatalf("staged records %+v", rs)
	}

	peerKey := ed25519.NewKeyFromSeed([]byte("a peer's seed, thirty-two bytes!"))
	prog := id.Program{9}
	rec := &op.JobRecord{Job: id.JobOf(prog, "peer-job"), Program: prog, RequestID: "peer-job", Status: op.JobSucceeded,
		Output: id.Blob{3}, Receipt: id.Hash{4}, Fuel: 77, CreatedAt: 1, StartedAt: 2, FinishedAt: 3,
		Executor: id.Node(peerKey.Public().(ed25519.PublicKey))}
	if err := rec.Sign(peerKey); err != nil {
		t.Fatal(err)
	}
	forged := *rec
	forged.Fuel++
	pending := *rec
	pending.Status = "pending"
	if err := pending.Sign(peerKey); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*op.JobRecord{"forged": &forged, "pending": &pending} {
		if ok, err := f.svc.Import(t.Context(), r); ok || err == nil {
			t.Fatalf("%s record imported", name)
		}
	}
	calls := len(f.exec.callTimes())
	if ok, err := f.svc.Import(t.Context(), rec); !ok || err != nil {
		t.Fatalf("import: %v %v", ok, err)
	}
	if ok, _ := f.svc.Import(t.Context(), rec); ok {
		t.Fatal("imported twice")
	}
	imp, err := f.svc.Get(rec.Job)
	if err != nil || imp.Status != Completed || !imp.Imported || imp.Executor != rec.Executor || imp.FuelConsumed != 77 {
		t.Fatalf("imported job %+v %v", imp, err)
	}
	back, err := f.svc.Record(rec.Job)
	if err != nil || back.Verify() != nil || string(back.Signature) != string(rec.Signature) {
		t.Fatalf("record of an imported job: %v", err)
	}
	// Never executed, and a local submission of it is answered from the record.
	again, created, err := f.svc.Submit(t.Context(), SubmitRequest{RequestID: "peer-job", Program: prog})
	if err != nil || created || again.Status != Completed {
		t.Fatalf("submit of an imported job: %+v %v %v", again, created, err)
	}
	if n := len(f.exec.callTimes()); n != calls {
		t.Fatalf("an imported record was executed (%d calls, was %d)", n, calls)
	}
	if _, _, err := f.svc.Output(t.Context(), rec.Job); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("output of an imported job whose blob is elsewhere: %v", err)
	}
	// Imported records are not staged again: the peer published them.
	if rs := box.committed(t); len(rs) != 1 {
		t.Fatalf("%d records staged after the import", len(rs))
	}
}

// outboxRecorder stages each record under a key of its own in the batch
// it is given, so that committed reads back exactly the records whose
// batches committed.
type outboxRecorder struct{ db *pebble.DB }

const recorderPrefix = "test/outbox/"

func (o *outboxRecorder) StageJobRecord(b *pebble.Batch, rec *op.JobRecord) error {
	return b.Set(append([]byte(recorderPrefix), rec.Job[:]...), codec.MustMarshal(rec), nil)
}

func (o *outboxRecorder) committed(t *testing.T) []*op.JobRecord {
	t.Helper()
	it, err := o.db.NewIter(&pebble.IterOptions{LowerBound: []byte(recorderPrefix), UpperBound: kv.PrefixEnd([]byte(recorderPrefix))})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out []*op.JobRecord
	for it.First(); it.Valid(); it.Next() {
		var rec op.JobRecord
		if err := codec.Unmarshal(it.Value(), &rec); err != nil {
			t.Fatal(err)
		}
		out = append(out, &rec)
	}
	return out
}

// TestListAndWait: pages in creation order, filters by status and
// program, and a long-poll that wakes on the change.
func TestListAndWait(t *testing.T) {
	f := newFakeEnv(t, nil, func(o *Options) { o.Workers = 1; o.Now = tickingClock() })
	f.exec.block = make(chan struct{})
	var ids []id.Job
	for i := range 5 {
		ids = append(ids, f.submit(t, fmt.Sprintf("r%d", i)).ID)
	}
	f.wait(t, ids[0], statusIs(Running))
	var all []id.Job
	for cursor := ""; ; {
		page, err := f.svc.List(ListQuery{Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range page.Jobs {
			all = append(all, j.ID)
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if fmt.Sprint(all) != fmt.Sprint(ids) {
		t.Fatalf("paged list %v, want %v", all, ids)
	}
	pend, err := f.svc.List(ListQuery{Status: Pending})
	if err != nil || len(pend.Jobs) != 4 || pend.Jobs[0].ID != ids[1] {
		t.Fatalf("pending: %v %v", pend, err)
	}
	p := id.Program{1}
	if run, err := f.svc.List(ListQuery{Status: Running, Program: &p}); err != nil || len(run.Jobs) != 1 || run.Jobs[0].ID != ids[0] {
		t.Fatalf("running of program: %v %v", run, err)
	}
	if none, err := f.svc.List(ListQuery{Program: &id.Program{2}}); err != nil || len(none.Jobs) != 0 || none.Next != "" {
		t.Fatalf("other program: %v %v", none, err)
	}
	// Wait wakes on the change, and returns as it is when ctx ends.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	if j, err := f.svc.Wait(ctx, ids[1], terminal); err != nil || j.Status != Pending {
		t.Fatalf("wait with nothing happening: %+v %v", j, err)
	}
	cancel()
	done := make(chan *Job)
	go func() {
		j, _ := f.svc.Wait(t.Context(), ids[4], terminal)
		done <- j
	}()
	close(f.exec.block)
	if j := <-done; j.Status != Completed {
		t.Fatalf("woken with %+v", j)
	}
}
