package job

import (
	"context"
	"crypto/ed25519"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/program"
)

// fakeExec stands for the chain engine in tests of the scheduler alone:
// every program exists, an attempt returns fail(n) for the n-th call (nil:
// success, the input echoed), and a successful attempt commits through
// the job's PreCommit hook exactly as the engine does.
type fakeExec struct {
	db    *pebble.DB
	fail  func(n int) error
	block chan struct{} // when set, each call waits for a value (or ctx)

	mu    sync.Mutex
	calls []time.Time
}

func (f *fakeExec) Execute(ctx context.Context, req chain.Request) (*chain.Outcome, error) {
	f.mu.Lock()
	f.calls = append(f.calls, time.Now())
	n := len(f.calls)
	f.mu.Unlock()
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	if f.fail != nil {
		if err := f.fail(n); err != nil {
			return nil, err
		}
	}
	o := &chain.Outcome{Output: req.Input, FuelUsed: 1, Receipt: &consensus.CertifiedReceipt{
		Receipt: consensus.Receipt{Program: req.Program, Height: uint64(n), RequestID: chain.RequestKey(req.Program, req.RequestID)},
	}}
	b := f.db.NewBatch()
	defer b.Close()
	after, err := req.PreCommit(b, o)
	if err != nil {
		return nil, err
	}
	if after == nil {
		after = func(bool) {}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		after(false)
		return nil, err
	}
	after(true)
	return o, nil
}

func (f *fakeExec) Manifest(p id.Program) (*program.Manifest, error) { return &program.Manifest{}, nil }

func (f *fakeExec) Receipt(rid id.Hash) (*chain.Record, error) { return nil, chain.ErrNotFound }

func (f *fakeExec) Limits() chain.Limits { return chain.Limits{MaxInput: 1 << 20} }

func (f *fakeExec) callTimes() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.calls...)
}

// fakeEnv is a service over a fake executor, an in-memory database and a
// blob store in a temporary directory.
type fakeEnv struct {
	db    *pebble.DB
	blobs *blob.Store
	exec  *fakeExec
	svc   *Service
	opts  Options
}

func newFakeEnv(t testing.TB, fs vfs.FS, modify func(*Options)) *fakeEnv {
	t.Helper()
	if fs == nil {
		fs = vfs.NewMem()
	}
	db, err := pebble.Open("db", &pebble.Options{FS: fs, Logger: quiet{}})
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blob.Open(blob.Options{Dir: filepath.Join(t.TempDir(), "blobs"), DB: db})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeEnv{db: db, blobs: blobs, exec: &fakeExec{db: db}}
	f.opts = Options{DB: db, Exec: f.exec, Blobs: blobs, Key: ed25519.NewKeyFromSeed(make([]byte, 32)), Workers: 2}
	if modify != nil {
		modify(&f.opts)
	}
	f.open(t)
	t.Cleanup(func() {
		f.close(t)
		blobs.Close()
		db.Close()
	})
	return f
}

func (f *fakeEnv) open(t testing.TB) {
	t.Helper()
	svc, err := Open(context.Background(), f.opts)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
}

func (f *fakeEnv) close(t testing.TB) {
	if f.svc != nil {
		if err := f.svc.Close(); err != nil {
			t.Error(err)
		}
		f.svc = nil
	}
}

func (f *fakeEnv) submit(t testing.TB, rid string) *Job {
	t.Helper()
	j, _, err := f.svc.Submit(context.Background(), SubmitRequest{RequestID: rid, Program: id.Program{1}, Input: []byte(rid)})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func (f *fakeEnv) wait(t testing.TB, j id.Job, until func(*Job) bool) *Job {
	t.Helper()
	got, err := f.svc.Wait(context.Background(), j, until)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// tickingClock advances 1 ms per reading, so that jobs submitted one after
// the other have distinct creation times (the queue and the lists order
// jobs of the same millisecond by id).
func tickingClock() func() time.Time {
	var mu sync.Mutex
	now := time.Now()
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Millisecond)
		return now
	}
}
