package meter

import (
	"strings"
	"testing"
)

func callsGlobal(t *testing.T, in *instance) uint32 {
	t.Helper()
	return uint32(in.mod.ExportedGlobal("calls").Get())
}

// TestDepthBeforeEngineLimit runs unbounded recursion on both engines: uninstrumented it hits
// wazero's own stack ceiling; instrumented the meter traps with ReasonCallDepth first.
func TestDepthBeforeEngineLimit(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxCallDepth = MaxCallDepthLimit // the worst case
	for _, eng := range engines {
		for _, fn := range []string{"inf", "indirect", "fat", "phi"} {
			t.Run(eng.name+"/"+fn, func(t *testing.T) {
				module := "depth.wasm"
				if fn == "phi" {
					if eng.name == "interpreter" {
						// The interpreter bounds frames, not bytes, and needs minutes for this one.
						t.Skip("frame weights only matter to the compiler engine")
					}
					if testing.Short() {
						t.Skip("compiling phi.wasm takes seconds")
					}
					module = "phi.wasm"
				}
				src := readTestdata(t, module)
				inst := mustInstrument(t, src, cfg)
				raw := newInstance(t, eng.cfg(), src)
				_, _, err := raw.call(t, fn, 0, 0)
				if err == nil || !strings.Contains(err.Error(), "stack overflow") {
					t.Fatalf("uninstrumented: err %v, want wazero stack overflow", err)
				}
				engineMax := callsGlobal(t, raw)

				in := newInstance(t, eng.cfg(), inst)
				_, _, err = in.call(t, fn, 1<<50, 0)
				if reasonOf(err) != ReasonCallDepth {
					t.Fatalf("instrumented: err %v, want reason %d", err, ReasonCallDepth)
				}
				meterMax := callsGlobal(t, in)
				t.Logf("frames reached: engine limit %d, meter limit %d", engineMax, meterMax)
				if meterMax >= engineMax {
					t.Fatalf("meter allowed %d frames, engine only %d", meterMax, engineMax)
				}
			})
		}
	}
}

// TestDepthLimitExact: rec(n) suspends n frames of weight 1, so rec(Max) succeeds and
// rec(Max+1) traps; the depth counter is back to 0 after a successful call.
func TestDepthLimitExact(t *testing.T) {
	src := readTestdata(t, "depth.wasm")
	for _, max := range []uint32{1, 10, DefaultMaxCallDepth, MaxCallDepthLimit} {
		cfg := DefaultConfig()
		cfg.MaxCallDepth = max
		inst := mustInstrument(t, src, cfg)
		for _, eng := range engines {
			in := newInstance(t, eng.cfg(), inst)
			res, _, err := in.call(t, "rec", 1<<50, uint64(max))
			if err != nil || res[0] != uint64(max) {
				t.Errorf("%s max=%d: rec(max) = %v, %v", eng.name, max, res, err)
			}
			if d := in.depth.Get(); d != 0 {
				t.Errorf("%s max=%d: depth %d after return, want 0", eng.name, max, d)
			}
			_, _, err = in.call(t, "rec", 1<<50, uint64(max)+1)
			if reasonOf(err) != ReasonCallDepth {
				t.Errorf("%s max=%d: rec(max+1) err %v, want reason %d", eng.name, max, err, ReasonCallDepth)
			}
			if in.host.calls != 1 {
				t.Errorf("%s: exhausted called %d times, want 1", eng.name, in.host.calls)
			}
		}
	}
}

func TestMaxCallDepthLimitEnforced(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxCallDepth = MaxCallDepthLimit + 1
	if _, err := Instrument(readTestdata(t, "fuel.wasm"), cfg); err == nil {
		t.Fatal("MaxCallDepth above the limit accepted")
	}
}
