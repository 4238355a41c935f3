package wasm

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// engines are the two wazero engines the behavioural tests run on.
var engines = []struct {
	name        string
	interpreter bool
}{
	{"compiler", false},
	{"interpreter", true},
}

func newTestRuntime(t testing.TB, interpreter bool) *Runtime {
	t.Helper()
	r, err := New(context.Background(), Config{Interpreter: interpreter})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	return r
}

func rawFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	preparedMu sync.Mutex
	prepared   = map[string][]byte{}
)

// fixture returns the instrumented fixture, prepared once per test binary.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	preparedMu.Lock()
	defer preparedMu.Unlock()
	if b, ok := prepared[name]; ok {
		return b
	}
	b, err := Prepare(rawFixture(t, name))
	if err != nil {
		t.Fatalf("Prepare(%s): %v", name, err)
	}
	prepared[name] = b
	return b
}

var (
	sharedOnce sync.Once
	shared     *Runtime
	sharedErr  error
)

// sharedRuntime is one compiler runtime for the whole test binary, with a
// disk compilation cache that survives test runs: the Go fixture takes
// seconds to compile (minutes under -race).
func sharedRuntime(t testing.TB) *Runtime {
	t.Helper()
	sharedOnce.Do(func() {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		shared, sharedErr = New(context.Background(), Config{CacheDir: filepath.Join(dir, "onvm-wasm-test-cache")})
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}
