package job

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/bls"
	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/identity"
	"github.com/onvm-network/onvm/internal/program"
	"github.com/onvm-network/onvm/internal/state"
	"github.com/onvm-network/onvm/internal/wasm"
)

var (
	rtOnce sync.Once
	rt     *wasm.Runtime
	rtErr  error
)

// testRuntime is one runtime for the package's tests: each module
// compiles once, with a disk cache that survives between runs.
func testRuntime(t testing.TB) *wasm.Runtime {
	t.Helper()
	rtOnce.Do(func() {
		rt, rtErr = wasm.New(context.Background(), wasm.Config{CacheDir: filepath.Join(os.TempDir(), "onvm-job-test-wasm-cache")})
	})
	if rtErr != nil {
		t.Fatal(rtErr)
	}
	return rt
}

func testKeys(t testing.TB, seed byte) *identity.Keys {
	t.Helper()
	sk, err := bls.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{seed}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	return &identity.Keys{Ed25519: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)), BLS: sk}
}

// env is a node's stores, chain engine and job service in one directory.
type env struct {
	t      testing.TB
	dir    string
	keys   *identity.Keys
	db     *pebble.DB
	blobs  *blob.Store
	state  *state.Store
	engine *chain.Engine
	exec   Executor // what the service executes through (engine unless wrapped)
	svc    *Service
	opts   Options
}

type envOption func(*env)

// withOptions adjusts the service options.
func withOptions(f func(*Options)) envOption { return func(e *env) { f(&e.opts) } }

// withExec wraps the executor the service uses.
func withExec(f func(Executor) Executor) envOption {
	return func(e *env) { e.exec = f(e.exec) }
}

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	e := openStores(t, t.TempDir(), 1)
	e.start(opts...)
	return e
}

// openStores opens the database, stores and engine of dir (no service).
func openStores(t testing.TB, dir string, seed byte) *env {
	t.Helper()
	e := &env{t: t, dir: dir, keys: testKeys(t, seed)}
	var err error
	if e.db, err = pebble.Open(filepath.Join(dir, "db"), &pebble.Options{Logger: quiet{}}); err != nil {
		t.Fatal(err)
	}
	if e.blobs, err = blob.Open(blob.Options{Dir: filepath.Join(dir, "blobs"), DB: e.db}); err != nil {
		t.Fatal(err)
	}
	if e.state, err = state.Open(e.db); err != nil {
		t.Fatal(err)
	}
	e.engine, err = chain.New(chain.Options{
		DB: e.db, State: e.state, Catalog: program.NewCatalog(e.db, chain.BlobCode{Blobs: e.blobs}),
		Blobs: e.blobs, Runtime: testRuntime(t), Keys: e.keys,
		Limits: chain.Limits{MaxTimeout: time.Minute, MaxFuel: loopFuel},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.exec = e.engine
	t.Cleanup(e.close)
	return e
}

// start opens the job service over the stores.
func (e *env) start(opts ...envOption) {
	e.t.Helper()
	e.exec = e.engine
	e.opts = Options{DB: e.db, Blobs: e.blobs, Key: e.keys.Ed25519, Workers: 2, Backoff: Backoff{Base: 20 * time.Millisecond, Max: 100 * time.Millisecond}}
	for _, o := range opts {
		o(e)
	}
	e.opts.Exec = e.exec
	svc, err := Open(context.Background(), e.opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.svc = svc
}

// stop closes the service (not the stores).
func (e *env) stop() {
	if e.svc != nil {
		if err := e.svc.Close(); err != nil {
			e.t.Errorf("close service: %v", err)
		}
		e.svc = nil
	}
}

func (e *env) close() {
	e.stop()
	if e.engine != nil {
		e.engine.Close()
		e.blobs.Close()
		e.db.Close()
		e.engine = nil
	}
}

// deploy deploys examples/<name>/<name>.wasm or testdata/<name>.wasm.
func (e *env) deploy(name, entry, salt string) id.Program {
	e.t.Helper()
	code := wasmFile(e.t, name)
	m, _, err := e.engine.Deploy(context.Background(), chain.DeployRequest{Code: code, Entrypoint: entry, Salt: []byte(salt)})
	if err != nil {
		e.t.Fatal(err)
	}
	return m.Body.Program
}

func wasmFile(t testing.TB, name string) []byte {
	t.Helper()
	path := filepath.Join("testdata", name+".wasm")
	if _, err := os.Stat(path); err != nil {
		path = filepath.Join("..", "..", "examples", name, name+".wasm")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// submit submits and fails the test on error.
func (e *env) submit(req SubmitRequest) *Job {
	e.t.Helper()
	j, _, err := e.svc.Submit(context.Background(), req)
	if err != nil {
		e.t.Fatalf("submit %q: %v", req.RequestID, err)
	}
	return j
}

// waitFor waits (without polling: on the job's changes) until until holds.
func (e *env) waitFor(j id.Job, what string, until func(*Job) bool) *Job {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	got, err := e.svc.Wait(ctx, j, until)
	if err != nil {
		e.t.Fatal(err)
	}
	if !until(got) {
		e.t.Fatalf("job %s: timed out waiting for %s; it is %s (%s)", j, what, got.Status, got.Error)
	}
	return got
}

func terminal(j *Job) bool { return j.Status.Terminal() }

func statusIs(s Status) func(*Job) bool { return func(j *Job) bool { return j.Status == s } }

// head returns the program's committed height.
func (e *env) head(p id.Program) uint64 {
	e.t.Helper()
	h, err := e.engine.Head(p)
	if err != nil {
		e.t.Fatal(err)
	}
	return h.Height
}

type quiet struct{}

func (quiet) Infof(string, ...any)  {}
func (quiet) Errorf(string, ...any) {}
func (quiet) Fatalf(format string, args ...any) {
	panic("pebble: " + format)
}

func ptr[T any](v T) *T { return &v }

// loopFuel lets an infinite-loop guest run for several seconds: the
// tests that stop one (cancel, timeout) must not see it run out of fuel
// first, and a guest the runtime cannot stop still ends.
const loopFuel = 3_000_000_000
