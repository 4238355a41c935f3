package chain

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
	"golang.org/x/tools/txtar"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/bls"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/identity"
	"github.com/onvm-network/onvm/internal/program"
	"github.com/onvm-network/onvm/internal/state"
	"github.com/onvm-network/onvm/internal/wasm"
)

// testRuntime is shared by every engine of the package's tests: it compiles
// each sample once.
var (
	runtimeOnce sync.Once
	sharedRT    *wasm.Runtime
	runtimeErr  error
)

func testRuntime(t testing.TB) *wasm.Runtime {
	t.Helper()
	runtimeOnce.Do(func() {
		sharedRT, runtimeErr = wasm.New(context.Background(), wasm.Config{CacheDir: filepath.Join(os.TempDir(), "onvm-chain-test-wasm-cache"), CompileWait: 10 * time.Minute})
	})
	if runtimeErr != nil {
		t.Fatal(runtimeErr)
	}
	return sharedRT
}

// testKeys returns deterministic node keys for seed.
func testKeys(t testing.TB, seed byte) *identity.Keys {
	t.Helper()
	sk, err := bls.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{seed}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	return &identity.Keys{Ed25519: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)), BLS: sk}
}

// env is one engine with its stores.
type env struct {
	dir     string
	db      *pebble.DB
	blobs   *blob.Store
	state   *state.Store
	catalog *program.Catalog
	engine  *Engine
	keys    *identity.Keys
}

type envOption func(*Options)

func newEnv(t testing.TB, seed byte, opts ...envOption) *env {
	t.Helper()
	return openEnv(t, t.TempDir(), seed, opts...)
}

func openEnv(t testing.TB, dir string, seed byte, opts ...envOption) *env {
	t.Helper()
	e := &env{dir: dir, keys: testKeys(t, seed)}
	var err error
	if e.db, err = pebble.Open(filepath.Join(dir, "db"), &pebble.Options{Logger: quietLog{}}); err != nil {
		t.Fatal(err)
	}
	if e.blobs, err = blob.Open(blob.Options{Dir: filepath.Join(dir, "blobs"), DB: e.db}); err != nil {
		t.Fatal(err)
	}
	if e.state, err = state.Open(e.db); err != nil {
		t.Fatal(err)
	}
	o := Options{DB: e.db, State: e.state, Blobs: e.blobs, Runtime: testRuntime(t), Keys: e.keys}
	for _, f := range opts {
		f(&o)
	}
	e.catalog = program.NewCatalog(e.db, BlobCode{e.blobs})
	o.Catalog = e.catalog
	if e.engine, err = New(o); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.close)
	return e
}

func (e *env) close() {
	if e.engine == nil {
		return
	}
	e.engine.Close()
	e.blobs.Close()
	e.db.Close()
	e.engine = nil
}

// sample returns the bytes of examples/<name>/<name>.wasm.
func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", name, name+".wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// limitsWasm is the runtime's fixture of misbehaving guests.
func limitsWasm(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "wasm", "testdata", "limits.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (e *env) deploy(t testing.TB, code []byte, entry string, salt string) id.Program {
	t.Helper()
	m, _, err := e.engine.Deploy(context.Background(), DeployRequest{Code: code, Entrypoint: entry, Salt: []byte(salt)})
	if err != nil {
		t.Fatal(err)
	}
	return m.Body.Program
}

func (e *env) exec(t testing.TB, p id.Program, in string) *Outcome {
	t.Helper()
	o, err := e.engine.Execute(context.Background(), Request{Program: p, Input: []byte(in)})
	if err != nil {
		t.Fatalf("execute %q: %v", in, err)
	}
	return o
}

func (e *env) committee(t testing.TB, p id.Program) *consensus.Committee {
	t.Helper()
	m, err := e.engine.Manifest(p)
	if err != nil {
		t.Fatal(err)
	}
	return &m.Body.Committee
}

// call is one call of an example's transcript.
type call struct {
	name    string
	in, out []byte
}

func transcript(t testing.TB, name string) []call {
	t.Helper()
	a, err := txtar.ParseFile(filepath.Join("..", "..", "examples", name, "testdata", "calls.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	var calls []call
	for i := 0; i+1 < len(a.Files); i += 2 {
		in, out := a.Files[i], a.Files[i+1]
		calls = append(calls, call{
			name: in.Name,
			in:   bytes.TrimSuffix(in.Data, []byte("\n")),
			out:  bytes.TrimSuffix(out.Data, []byte("\n")),
		})
	}
	if len(calls) == 0 {
		t.Fatalf("empty transcript for %s", name)
	}
	return calls
}

func withClock(f func() time.Time) envOption { return func(o *Options) { o.Now = f } }
