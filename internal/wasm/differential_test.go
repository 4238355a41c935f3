package wasm

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDifferentialMetering: the instrumented module computes exactly what
// the original computes — same output, logs, writes and final memory.
func TestDifferentialMetering(t *testing.T) {
	r := sharedRuntime(t)
	for _, fc := range fuelCases(t) {
		if fc.slow && testing.Short() {
			continue
		}
		t.Run(fc.name, func(t *testing.T) {
			var mem [2][]byte
			var got [2]outcome
			for i, unmetered := range []bool{false, true} {
				c := fc
				c.call.inspect = func(m []byte) { mem[i] = bytes.Clone(m) }
				c.call.Fuel = 1 << 40 // the original runs unmetered: compare where fuel is no limit
				got[i] = runCase(t, r, c, unmetered)
			}
			if got[0].Kind != got[1].Kind {
				t.Fatalf("metered: %v, original: %v", got[0].Kind, got[1].Kind)
			}
			if got[0].Result != nil {
				got[0].Result.FuelUsed, got[1].Result.FuelUsed = 0, 0
			}
			got[0].Fuel, got[1].Fuel = 0, 0
			if diff := cmp.Diff(got[1], got[0]); diff != "" {
				t.Errorf("metered differs from the original (-original +metered):\n%s", diff)
			}
			if !bytes.Equal(mem[0], mem[1]) {
				t.Errorf("final memory differs (%d vs %d bytes)", len(mem[0]), len(mem[1]))
			}
		})
	}
}

// TestDifferentialEngines: the compiler and the interpreter give identical
// results, fuel included, and identical failures.
func TestDifferentialEngines(t *testing.T) {
	comp, interp := sharedRuntime(t), newTestRuntime(t, true)
	for _, fc := range fuelCases(t) {
		if fc.slow && testing.Short() {
			continue
		}
		t.Run(fc.name, func(t *testing.T) {
			a, b := runCase(t, comp, fc, false), runCase(t, interp, fc, false)
			if diff := cmp.Diff(a, b); diff != "" {
				t.Errorf("compiler vs interpreter (-compiler +interpreter):\n%s", diff)
			}
		})
	}
}

// TestDeterminism: running the same call twice gives identical results.
func TestDeterminism(t *testing.T) {
	r := sharedRuntime(t)
	for _, fc := range fuelCases(t) {
		if fc.slow && testing.Short() {
			continue
		}
		a, b := runCase(t, r, fc, false), runCase(t, r, fc, false)
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("%s: two runs differ:\n%s", fc.name, diff)
		}
	}
}
