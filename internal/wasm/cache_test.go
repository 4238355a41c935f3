package wasm

import (
	"context"
	"errors"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onvm-network/onvm/internal/id"
	"github.com/tetratelabs/wazero"
)

func TestModuleCacheLRU(t *testing.T) {
	codes := [][]byte{fixture(t, "echo_multi"), fixture(t, "echo_packed"), fixture(t, "echo_sret")}
	budget := 2 * int64(max(len(codes[0]), len(codes[1]), len(codes[2]))) * compiledSizeFactor
	r, err := New(t.Context(), Config{MaxCompiledBytes: budget})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(context.Background())
	var compiles atomic.Int32
	compile := r.modules.compile
	r.modules.compile = func(ctx context.Context, code []byte) (wazero.CompiledModule, *snapshotPlan, error) {
		compiles.Add(1)
		return compile(ctx, code)
	}
	run := func(code []byte) {
		t.Helper()
		if _, err := r.Run(t.Context(), Call{Code: code, Entrypoint: "run", Input: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	run(codes[0])
	run(codes[1])
	run(codes[0]) // codes[0] is now the most recent
	run(codes[2]) // evicts codes[1]
	if n, size := r.modules.stats(); n != 2 || size > budget {
		t.Errorf("cache holds %d modules, %d bytes", n, size)
	}
	if _, ok := r.modules.entries[id.Sum(codes[1])]; ok {
		t.Error("the least recently used module was not evicted")
	}
	if got := compiles.Load(); got != 3 {
		t.Errorf("%d compilations, want 3", got)
	}
	run(codes[1])
	if got := compiles.Load(); got != 4 {
		t.Errorf("%d compilations after re-use of an evicted module, want 4", got)
	}
}

func TestModuleCacheConcurrent(t *testing.T) {
	r := newTestRuntime(t, false)
	var compiles atomic.Int32
	compile := r.modules.compile
	r.modules.compile = func(ctx context.Context, code []byte) (wazero.CompiledModule, *snapshotPlan, error) {
		compiles.Add(1)
		return compile(ctx, code)
	}
	code := fixture(t, "msort")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Go(func() {
			if _, err := r.Run(context.Background(), Call{Code: code, Entrypoint: "sort", Input: u32s(100, uint64(i))}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := compiles.Load(); got != 1 {
		t.Errorf("%d compilations of one module, want 1", got)
	}
}

func TestModuleCacheEvictInUse(t *testing.T) {
	r := newTestRuntime(t, false)
	code := fixture(t, "echo_multi")
	e, err := r.modules.get(t.Context(), id.Sum(code), code, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	r.modules.closeAll()
	if !e.evicted {
		t.Fatal("not evicted")
	}
	// Still usable by its holder.
	mod, err := r.rt.InstantiateModule(t.Context(), e.mod, wazero.NewModuleConfig().WithName(""))
	if err == nil {
		mod.Close(t.Context())
	}
	r.modules.release(e)
	if _, err := r.Run(t.Context(), Call{Code: code, Entrypoint: "run"}); err != nil {
		t.Fatal(err)
	}
}

func TestCompileErrorNotCached(t *testing.T) {
	r := newTestRuntime(t, false)
	bad := []byte("\x00asm\x01\x00\x00\x00\x01")
	for i := 0; i < 2; i++ {
		_, err := r.Run(t.Context(), Call{Code: bad, Entrypoint: "run"})
		if !errors.Is(err, ErrInvalidModule) {
			t.Fatalf("err = %v", err)
		}
	}
	if n, _ := r.modules.stats(); n != 0 {
		t.Errorf("%d entries cached after failed compilations", n)
	}
}

func TestDiskCacheAndClose(t *testing.T) {
	dir := t.TempDir() + "/wasm-cache"
	r, err := New(t.Context(), Config{CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(t.Context(), Call{Code: fixture(t, "msort"), Entrypoint: "sort", Input: u32s(10, 1)}); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(t.Context()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := r.Run(t.Context(), Call{Code: fixture(t, "msort"), Entrypoint: "sort"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("disk cache %s is empty: %v", dir, err)
	}
	r2, err := New(t.Context(), Config{CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close(t.Context())
	if _, err := r2.Run(t.Context(), Call{Code: fixture(t, "msort"), Entrypoint: "sort", Input: u32s(10, 1)}); err != nil {
		t.Fatal(err)
	}
}

// TestCloseDuringCompile: Close while a large module compiles (a node
// shutting down under a forwarded execution) waits for the compilation
// instead of closing wazero's engine under it, which panics; the call
// then fails or finishes, and a later one is ErrClosed.
func TestCloseDuringCompile(t *testing.T) {
	code, err := Prepare(exampleWasm(t, "kvstore"))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		r, err := New(t.Context(), Config{})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := r.Run(t.Context(), Call{Code: code, Entrypoint: "onvm_main", Input: []byte(`{"op":"stats"}`)})
			done <- err
		}()
		runtime.Gosched()
		if err := r.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		<-done // a panic in the compiling goroutine would have ended the test binary
		if _, err := r.Run(t.Context(), Call{Code: code, Entrypoint: "onvm_main"}); !errors.Is(err, ErrClosed) {
			t.Fatalf("Run after Close: %v", err)
		}
	}
}
