package wasm

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"

	"github.com/onvm-network/onvm/internal/wasm/meter/wasmbin"
)

// snapshotRuntimes returns, for the same engine, a runtime restoring
// snapshots and one running _initialize in every call's instance (the path
// without a snapshot), both fresh, with the shared disk compilation cache.
func snapshotRuntimes(t testing.TB, interpreter bool) (snap, perCall *Runtime) {
	t.Helper()
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	for i, no := range []bool{false, true} {
		r, err := New(context.Background(), Config{Interpreter: interpreter, CacheDir: filepath.Join(dir, "onvm-wasm-test-cache"), noSnapshots: no})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close(context.Background()) })
		if i == 0 {
			snap = r
		} else {
			perCall = r
		}
	}
	return snap, perCall
}

// TestSnapshotPlan: which modules are run from a snapshot, and why not.
func TestSnapshotPlan(t *testing.T) {
	for _, c := range []struct {
		name, fixture, why string
	}{
		{"wat reactor", "reactor", ""},
		{"bump allocator", "alloc", ""},
		{"go guest", "goguest", ""},
		{"table.set", "reactor_table", "uses 0x26"},
		{"no _initialize", "echo_packed", "no _initialize"},
	} {
		t.Run(c.name, func(t *testing.T) {
			plan, variant, why := planSnapshot(fixture(t, c.fixture))
			if why != c.why {
				t.Fatalf("reason %q, want %q", why, c.why)
			}
			if (plan != nil) != (c.why == "") || (variant != nil) != (c.why == "") {
				t.Fatalf("plan %v variant %d bytes for reason %q", plan != nil, len(variant), why)
			}
		})
	}
	t.Run("reserved export name", func(t *testing.T) {
		// reactor.wasm's globals 0–2 become onvm_g0–onvm_g2 (the meter's
		// are set per call anyway); a module that already exports one of
		// those names runs _initialize per call.
		code := fixture(t, "reactor")
		plan, _, _ := planSnapshot(code)
		if plan == nil || strings.Join(plan.globalNames, ",") != "onvm_g0,onvm_g1,onvm_g2" {
			t.Fatalf("plan %+v", plan)
		}
		m, err := wasmbin.Decode(code)
		if err != nil {
			t.Fatal(err)
		}
		exports, err := wasmbin.DecodeExports(m.Sections[m.Find(wasmbin.SecExport)].Payload)
		if err != nil {
			t.Fatal(err)
		}
		m.Set(wasmbin.SecExport, wasmbin.EncodeExports(append(exports, wasmbin.Export{Name: "onvm_g1", Kind: wasmbin.KindGlobal, Index: 0})))
		if plan, _, why := planSnapshot(m.Encode()); plan != nil || why != "already exports onvm_g1" {
			t.Fatalf("plan %v, reason %q", plan != nil, why)
		}
	})
}

// TestSnapshotIsolation: every call starts from the state _initialize left
// (globals, data segments, grown pages, log, clock), not from the previous
// call's; restored and per-call _initialize give identical results, the
// table-changing twin (never snapshotted) too, on both engines.
func TestSnapshotIsolation(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			snap, perCall := snapshotRuntimes(t, e.interpreter)
			var first *Result
			for _, fix := range []string{"reactor", "reactor_table"} {
				call := Call{Code: fixture(t, fix), Entrypoint: "run", Input: []byte("x"), Timestamp: 1_700_000_000_000, RequestID: [32]byte{7}, Timeout: -1}
				var want outcome
				for i, r := range []*Runtime{snap, perCall} {
					for j := 0; j < 3; j++ {
						res, err := r.Run(t.Context(), call)
						if err != nil {
							t.Fatalf("%s runtime %d call %d: %v", fix, i, j, err)
						}
						got := outcome{Result: res, Fuel: res.FuelUsed}
						if i == 0 && j == 0 {
							want = got
							checkReactorOutput(t, res)
							if first == nil {
								first = res
							} else if !bytes.Equal(first.Output, res.Output) || !cmp.Equal(first.Logs, res.Logs) {
								t.Errorf("%s: output %x logs %v, reactor: %x %v", fix, res.Output, res.Logs, first.Output, first.Logs)
							}
							continue
						}
						if diff := cmp.Diff(want, got); diff != "" {
							t.Errorf("%s runtime %d call %d differs from the first call:\n%s", fix, i, j, diff)
						}
					}
				}
			}
		})
	}
}

// checkReactorOutput checks what reactor.wasm's run saw against what its
// _initialize did.
func checkReactorOutput(t *testing.T, res *Result) {
	t.Helper()
	out := res.Output
	if len(out) != 41 {
		t.Fatalf("output %x", out)
	}
	le := binary.LittleEndian
	initClock, callClock := le.Uint64(out[16:]), le.Uint64(out[24:])
	for _, c := range []struct {
		what      string
		got, want uint64
	}{
		{"data segment as _initialize left it", uint64(out[0]), 'D'},
		{"data segment changed once", uint64(out[1]), 'a' + 1},
		{"counter: 100, +1 in _initialize, +1 in the call", uint64(le.Uint32(out[32:])), 102},
		{"grown page: 7 from _initialize, +1", uint64(out[36]), 8},
		{"i64 global: from _initialize, +1", uint64(out[37]), 0x89},
		{"memory pages: 1, +1 in _initialize", uint64(out[38]), 2},
		{"input placed by onvm_alloc at 1024", uint64(out[39]), 1024 >> 8},
		{"a block zero after _initialize, dirtied by every call", uint64(out[40]), 0},
		{"the call's clock continues _initialize's", callClock, initClock + clockTick},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %#x, want %#x", c.what, c.got, c.want)
		}
	}
	if bytes.Equal(out[8:16], make([]byte, 8)) {
		t.Error("_initialize read no random bytes")
	}
	want := []Log{{Source: SourceStdout, Level: LevelInfo, Message: "ab"}, {Source: SourceStdout, Level: LevelInfo, Message: "cdef"}}
	if diff := cmp.Diff(want, res.Logs); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
}

// TestSnapshotEquivalence: on the four samples' transcripts and the fuel
// cases (the Go fixture included), restoring a snapshot gives exactly what
// running _initialize in the call's instance gives — output, writes, logs,
// fuel and failures — and a second fresh runtime gives the same again.
func TestSnapshotEquivalence(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles four 2 MB Go modules")
	}
	snap, perCall := snapshotRuntimes(t, false)
	again, _ := snapshotRuntimes(t, false)
	runtimes := []*Runtime{snap, perCall, again}
	for _, fc := range fuelCases(t) {
		outs := make([]outcome, len(runtimes))
		for i, r := range runtimes {
			outs[i] = runCase(t, r, fc, false)
		}
		for i := 1; i < len(outs); i++ {
			if diff := cmp.Diff(outs[0], outs[i]); diff != "" {
				t.Errorf("%s: runtime %d differs from the snapshot runtime:\n%s", fc.name, i, diff)
			}
		}
	}
	for _, name := range []string{"echo", "kvstore", "analytics", "job-test"} {
		t.Run(name, func(t *testing.T) {
			code, err := Prepare(exampleWasm(t, name))
			if err != nil {
				t.Fatal(err)
			}
			a, err := txtar.ParseFile(filepath.Join("..", "..", "examples", name, "testdata", "calls.txtar"))
			if err != nil {
				t.Fatal(err)
			}
			states := make([]*fakeState, len(runtimes))
			for i := range states {
				states[i] = &fakeState{kv: map[string][]byte{}}
			}
			for i := 0; i+1 < len(a.Files); i += 2 {
				in := bytes.TrimSuffix(a.Files[i].Data, []byte("\n"))
				var first outcome
				for k, r := range runtimes {
					call := Call{Code: code, Entrypoint: "onvm_main", Input: in, State: states[k], Timestamp: 1_700_000_000_000 + int64(i), RequestID: [32]byte{byte(i)}, Timeout: -1}
					res, err := r.Run(t.Context(), call)
					var o outcome
					if err != nil {
						var e *Error
						if !errors.As(err, &e) {
							t.Fatal(err)
						}
						o = outcome{Kind: e.Kind, Fuel: e.FuelUsed, Logs: e.Logs}
					} else {
						o = outcome{Result: res, Fuel: res.FuelUsed}
						for _, w := range res.Writes {
							if w.Delete {
								delete(states[k].kv, string(w.Key))
							} else {
								states[k].kv[string(w.Key)] = w.Value
							}
						}
					}
					if k == 0 {
						first = o
					} else if diff := cmp.Diff(first, o); diff != "" {
						t.Errorf("%s: runtime %d differs from the snapshot runtime:\n%s", a.Files[i].Name, k, diff)
					}
				}
			}
		})
	}
}

// TestSnapshotInitFailure: _initialize reading state fails every call the
// same way, with the host function named and the same fuel used, whether the
// failure is cached or met again per call.
func TestSnapshotInitFailure(t *testing.T) {
	snap, perCall := snapshotRuntimes(t, false)
	call := Call{Code: fixture(t, "init_state"), Entrypoint: "run", Input: []byte("x"), State: &fakeState{kv: map[string][]byte{"a": []byte("b")}}}
	var first *Error
	for i, r := range []*Runtime{snap, snap, perCall} {
		_, err := r.Run(t.Context(), call)
		var e *Error
		if !errors.As(err, &e) || e.Kind != KindTrap || e.FuelUsed == 0 || !strings.HasPrefix(e.Message, "_initialize: onvm_state_get is not available in _initialize") {
			t.Fatalf("run %d: %#v", i, err)
		}
		if first == nil {
			first = e
		} else if e.Message != first.Message || e.Kind != first.Kind || e.FuelUsed != first.FuelUsed {
			t.Errorf("run %d: %q (%d fuel), first %q (%d fuel)", i, e.Message, e.FuelUsed, first.Message, first.FuelUsed)
		}
	}
}

// TestSnapshotInitOutOfFuel: _initialize that never returns fails every
// call out_of_fuel, reporting the InitFuel it used (it reported 0).
func TestSnapshotInitOutOfFuel(t *testing.T) {
	snap, perCall := snapshotRuntimes(t, false)
	call := Call{Code: fixture(t, "init_spin"), Entrypoint: "run", Input: []byte("x"), State: &fakeState{kv: map[string][]byte{}}, Timeout: -1}
	for i, r := range []*Runtime{snap, snap, perCall} {
		_, err := r.Run(t.Context(), call)
		var e *Error
		if !errors.As(err, &e) || e.Kind != KindOutOfFuel || !strings.HasPrefix(e.Message, "_initialize: ") {
			t.Fatalf("run %d: %#v", i, err)
		}
		if e.FuelUsed < InitFuel {
			t.Errorf("run %d: fuel_used %d, want at least the %d _initialize ran out of", i, e.FuelUsed, uint64(InitFuel))
		}
	}
}

// TestSnapshotMemoryLimit: a snapshot is per memory limit: _initialize that
// needs more memory than a call's limit fails with out_of_memory under that
// limit only.
func TestSnapshotMemoryLimit(t *testing.T) {
	snap, perCall := snapshotRuntimes(t, false)
	for _, r := range []*Runtime{snap, perCall} {
		for _, c := range []struct {
			limit uint64
			kind  ErrorKind
		}{{pageSize, KindOutOfMemory}, {0, 0}, {pageSize, KindOutOfMemory}} {
			res, err := r.Run(t.Context(), Call{Code: fixture(t, "reactor"), Entrypoint: "run", Input: []byte("x"), MemoryLimit: c.limit})
			if KindOf(err) != c.kind {
				t.Fatalf("limit %d: %v, want kind %v", c.limit, err, c.kind)
			}
			if err == nil {
				checkReactorOutput(t, res)
			}
		}
	}
}

// TestSnapshotConcurrent: concurrent first calls share one snapshot and all
// see the same result.
func TestSnapshotConcurrent(t *testing.T) {
	r := newTestRuntime(t, false)
	code := fixture(t, "reactor")
	var wg sync.WaitGroup
	outs := make([][]byte, 8)
	for i := range outs {
		wg.Go(func() {
			res, err := r.Run(t.Context(), Call{Code: code, Entrypoint: "run", Input: []byte("x"), Timestamp: 5})
			if err != nil {
				t.Error(err)
				return
			}
			outs[i] = res.Output
		})
	}
	wg.Wait()
	for i := 1; i < len(outs); i++ {
		if !bytes.Equal(outs[0], outs[i]) {
			t.Errorf("call %d: %x, call 0: %x", i, outs[i], outs[0])
		}
	}
	r.modules.mu.Lock()
	defer r.modules.mu.Unlock()
	for _, e := range r.modules.entries {
		if len(e.snaps) != 1 {
			t.Errorf("%d snapshots", len(e.snaps))
		}
	}
}

// TestSnapshotReuse: an instance is reused after a successful call that did
// not grow memory or touch WASI file descriptors, and discarded otherwise;
// either way the next call sees exactly the snapshot (same output, logs and
// fuel as a fresh instance).
func TestSnapshotReuse(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			r := newTestRuntime(t, e.interpreter)
			code := fixture(t, "reactor")
			run := func(in string) (*Result, error) {
				return r.Run(t.Context(), Call{Code: code, Entrypoint: "run", Input: []byte(in), RequestID: [32]byte{1}, Timeout: -1})
			}
			idle := func() int {
				r.modules.mu.Lock()
				defer r.modules.mu.Unlock()
				n := 0
				for _, en := range r.modules.entries {
					for _, sl := range en.snaps {
						n += len(sl.idle)
					}
				}
				return n
			}
			want, err := run("x")
			if err != nil {
				t.Fatal(err)
			}
			checkReactorOutput(t, want)
			for _, step := range []struct {
				in    string
				fails bool
				idle  int // idle instances after the step
			}{
				{"x", false, 1},   // reused, kept
				{"", true, 0},     // traps: discarded
				{"x", false, 1},   // fresh, kept
				{"xx", false, 0},  // grows memory: discarded
				{"x", false, 1},   //
				{"xxx", false, 0}, // closes stdout: discarded
				{"x", false, 1},
			} {
				res, err := run(step.in)
				if (err != nil) != step.fails {
					t.Fatalf("input %q: %v", step.in, err)
				}
				if got := idle(); got != step.idle {
					t.Errorf("input %q: %d idle instances, want %d", step.in, got, step.idle)
				}
				if step.in == "x" {
					if diff := cmp.Diff(want, res); diff != "" {
						t.Errorf("after the previous step, input %q differs from the first call:\n%s", step.in, diff)
					}
				}
			}
		})
	}
}
