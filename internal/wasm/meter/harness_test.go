package meter

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// engines are the two wazero engines every behavioural test runs on.
var engines = []struct {
	name string
	cfg  func() wazero.RuntimeConfig
}{
	{"compiler", wazero.NewRuntimeConfigCompiler},
	{"interpreter", wazero.NewRuntimeConfigInterpreter},
}

// exhaustedError is what the test host's onvm_meter.exhausted panics with.
type exhaustedError struct{ reason int32 }

func (e *exhaustedError) Error() string { return fmt.Sprintf("meter exhausted: reason %d", e.reason) }

// reasonOf returns the exhausted reason carried by err, or 0.
func reasonOf(err error) int32 {
	var ex *exhaustedError
	if errors.As(err, &ex) {
		return ex.reason
	}
	return 0
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustInstrument(t testing.TB, wasm []byte, cfg Config) []byte {
	t.Helper()
	out, err := Instrument(wasm, cfg)
	if err != nil {
		t.Fatalf("Instrument: %v", err)
	}
	return out
}

// instance is one instantiated module on one engine.
type instance struct {
	mod   api.Module
	fuel  api.MutableGlobal // nil for an uninstrumented module
	depth api.MutableGlobal
	cp    api.MutableGlobal
	host  *testHost
}

// testInterval is the test host's default checkpoint interval.
const testInterval = 1 << 20

// testHost is the test implementation of onvm_meter.exhausted: for ReasonCheckpoint with
// fuel left it records the fuel, lowers the checkpoint by interval and returns (unless stop
// says otherwise); in every other case it panics with an *exhaustedError.
type testHost struct {
	calls    int     // calls that stopped the guest
	interval int64   // 0 = testInterval
	seen     []int64 // onvm_fuel at every checkpoint call that returned
	// stop, if set, is asked at every checkpoint call with fuel left; true stops the guest
	// with reason 0.
	stop func(fuel int64) bool
}

func (h *testHost) exhausted(_ context.Context, m api.Module, reason int32) {
	if reason == ReasonCheckpoint {
		fuel := int64(m.ExportedGlobal(FuelExport).Get())
		if fuel < 0 {
			reason = ReasonOutOfFuel
		} else if h.stop != nil && h.stop(fuel) {
			reason = 0
		} else {
			h.seen = append(h.seen, fuel)
			interval := h.interval
			if interval == 0 {
				interval = testInterval
			}
			m.ExportedGlobal(CheckpointExport).(api.MutableGlobal).Set(uint64(max(0, fuel-interval)))
			return
		}
	}
	h.calls++
	panic(&exhaustedError{reason: reason})
}

// compiled caches compilations across the runtimes of a test binary.
var compiled = wazero.NewCompilationCache()

// newRuntime returns a runtime with the test onvm_meter host module and WASI.
func newRuntime(t testing.TB, ctx context.Context, cfg wazero.RuntimeConfig) (wazero.Runtime, *testHost) {
	t.Helper()
	r := wazero.NewRuntimeWithConfig(ctx, cfg.WithCompilationCache(compiled))
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	host := &testHost{}
	_, err := r.NewHostModuleBuilder(ImportModule).
		NewFunctionBuilder().
		WithFunc(host.exhausted).
		Export(ImportFunc).
		Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.NewHostModuleBuilder("env").
		NewFunctionBuilder().WithFunc(func(_ context.Context, a, b int32) int32 { return a + b }).Export("add").
		Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	return r, host
}

func newInstance(t testing.TB, cfg wazero.RuntimeConfig, wasm []byte) *instance {
	t.Helper()
	ctx := context.Background()
	r, host := newRuntime(t, ctx, cfg)
	mod, err := r.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	in := &instance{mod: mod, host: host}
	if g, ok := mod.ExportedGlobal(FuelExport).(api.MutableGlobal); ok {
		in.fuel = g
		in.depth = mod.ExportedGlobal(DepthExport).(api.MutableGlobal)
		in.cp, _ = mod.ExportedGlobal(CheckpointExport).(api.MutableGlobal) // nil: onvm-meter/1 output (benchmarks)
	}
	return in
}

// call runs an export with the given fuel budget and returns its results and the fuel
// used (budget - remaining).
func (in *instance) call(t testing.TB, name string, budget int64, args ...uint64) ([]uint64, int64, error) {
	t.Helper()
	f := in.mod.ExportedFunction(name)
	if f == nil {
		t.Fatalf("no export %q", name)
	}
	if in.fuel != nil {
		in.setFuel(budget)
		in.depth.Set(0)
	}
	res, err := f.Call(context.Background(), args...)
	var used int64
	if in.fuel != nil {
		used = budget - int64(in.fuel.Get())
	}
	return res, used, err
}

// setFuel sets onvm_fuel and the checkpoint below it, as the runtime does before a call.
func (in *instance) setFuel(fuel int64) {
	in.fuel.Set(uint64(fuel))
	if in.cp != nil {
		in.cp.Set(uint64(max(0, fuel-testInterval)))
	}
}
