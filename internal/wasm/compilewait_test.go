package wasm

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/wasm/meter"
	"github.com/onvm-network/onvm/internal/wasm/meter/wasmbin"
	"github.com/tetratelabs/wazero"
)

// slowToCompile is a module whose entrypoint run returns its input at once, and which also
// defines 50 functions nested meter.MaxNesting deep, never called: within the module
// limits, and some hundreds of milliseconds to compile.
func slowToCompile(t *testing.T) []byte {
	t.Helper()
	m := &wasmbin.Module{}
	m.Set(wasmbin.SecType, wasmbin.EncodeTypes([]wasmbin.FuncType{
		{Params: []byte{wasmbin.I32, wasmbin.I32}, Results: []byte{wasmbin.I32, wasmbin.I32}}, {},
	}))
	const n = 50 // the most nesting_work allows
	m.Set(wasmbin.SecFunction, append(wasmbin.AppendU32(nil, n+1), append([]byte{0}, bytes.Repeat([]byte{1}, n)...)...))
	m.Set(wasmbin.SecMemory, []byte{1, 0x00, 0x01})
	m.Set(wasmbin.SecExport, wasmbin.EncodeExports([]wasmbin.Export{
		{Name: "run", Kind: wasmbin.KindFunc, Index: 0}, {Name: MemoryExport, Kind: wasmbin.KindMemory, Index: 0},
	}))
	nest := append([]byte{0}, bytes.Repeat([]byte{0x02, 0x40}, meter.MaxNesting)...)
	nest = append(nest, bytes.Repeat([]byte{0x0b}, meter.MaxNesting+1)...)
	bodies := [][]byte{{0, 0x20, 0, 0x20, 1, 0x0b}}
	for range n {
		bodies = append(bodies, nest)
	}
	m.Set(wasmbin.SecCode, wasmbin.EncodeCode(bodies))
	code, err := Prepare(m.Encode())
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// TestTimeoutHoldsWhileCompiling: a call whose module is not compiled yet answers within
// its timeout, with KindCompiling and nothing run (it used to compile inside the call,
// uncounted, and answer when the compilation ended); the compilation goes on, Compile
// waits for it, and the next call runs within the same timeout.
func TestTimeoutHoldsWhileCompiling(t *testing.T) {
	code := slowToCompile(t)
	r := newTestRuntime(t, false)
	call := Call{Code: code, Entrypoint: "run", Input: []byte("x"), State: &fakeState{kv: map[string][]byte{}}, Timeout: time.Millisecond}
	start := time.Now()
	_, err := r.Run(t.Context(), call)
	took := time.Since(start)
	if !errors.Is(err, ErrCompiling) {
		t.Fatalf("first call: %v after %v, want %v", err, took, ErrCompiling)
	}
	compiled := time.Now()
	if err := r.Compile(t.Context(), id.Hash{}, code); err != nil {
		t.Fatal(err)
	}
	// The call answered well before the compilation ended: the bound is the timeout plus
	// scheduling, not the compile time.
	if rest := time.Since(compiled); took > rest+call.Timeout && took > 100*time.Millisecond {
		t.Errorf("first call took %v, the compilation went on for %v more", took, rest)
	}
	call.Timeout = time.Second
	res, err := r.Run(t.Context(), call)
	if err != nil || string(res.Output) != "x" {
		t.Fatalf("second call (compiled): %v, %v", res, err)
	}
}

// blockCompiles makes r's compilations wait for release to be closed and counts how many
// run at once.
func blockCompiles(r *Runtime) (release chan struct{}, running, peak *atomic.Int32) {
	release, running, peak = make(chan struct{}), new(atomic.Int32), new(atomic.Int32)
	compile := r.modules.compile
	r.modules.compile = func(ctx context.Context, code []byte) (wazero.CompiledModule, *snapshotPlan, error) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		<-release
		running.Add(-1)
		return compile(ctx, code)
	}
	return release, running, peak
}

// TestCompileConcurrencyBounded: with CompileConcurrency 1, three modules compiled at once
// compile one after the other, and callers waiting for them stop waiting at their own
// deadline or context.
func TestCompileConcurrencyBounded(t *testing.T) {
	r, err := New(t.Context(), Config{CompileConcurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	release, _, peak := blockCompiles(r)
	codes := [][]byte{fixture(t, "echo_multi"), fixture(t, "echo_packed"), fixture(t, "echo_sret")}
	for _, code := range codes {
		_, err := r.Run(t.Context(), Call{Code: code, Entrypoint: "run", Timeout: 5 * time.Millisecond})
		if !errors.Is(err, ErrCompiling) {
			t.Fatalf("call of an uncompiled module: %v", err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := r.Compile(ctx, id.Hash{}, codes[0]); !errors.Is(err, ErrCancelled) {
		t.Fatalf("Compile with a cancelled context: %v", err)
	}
	close(release)
	var wg sync.WaitGroup
	for _, code := range codes {
		wg.Go(func() {
			if err := r.Compile(t.Context(), id.Hash{}, code); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p != 1 {
		t.Errorf("%d compilations ran at once, want 1", p)
	}
	for _, code := range codes {
		if _, err := r.Run(t.Context(), Call{Code: code, Entrypoint: "run", Input: []byte("x"), Timeout: time.Second}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCompileQueueBounded: past maxQueuedCompiles compilations started and not finished, a
// call of one more module is refused with KindCompiling without starting it; Close stops
// the queued ones and waits for the running one.
func TestCompileQueueBounded(t *testing.T) {
	r, err := New(t.Context(), Config{CompileConcurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	release, _, _ := blockCompiles(r)
	code := fixture(t, "echo_multi")
	for i := range maxQueuedCompiles {
		_, err := r.Run(t.Context(), Call{Code: code, CodeHash: id.Sum([]byte{byte(i), byte(i >> 8)}), Entrypoint: "run", Timeout: time.Millisecond})
		if !errors.Is(err, ErrCompiling) {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	_, err = r.Run(t.Context(), Call{Code: code, Entrypoint: "run", Timeout: time.Second})
	if !errors.Is(err, ErrCompiling) {
		t.Fatalf("call past the queue: %v", err)
	}
	if n, _ := r.modules.stats(); n != maxQueuedCompiles {
		t.Errorf("%d cache entries, want %d", n, maxQueuedCompiles)
	}
	done := make(chan error)
	go func() { done <- r.Close(context.Background()) }()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
