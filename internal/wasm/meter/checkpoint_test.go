package meter

import (
	"context"
	"errors"
	"testing"

	"github.com/onvm-network/onvm/internal/wasm/meter/wasmbin"
	"github.com/tetratelabs/wazero"
)

// TestCheckpointInterval: a guest with fuel to spare calls the host about every interval
// units of fuel, whether it spins in a loop or runs a call tree without loops, and the host
// can stop it there.
func TestCheckpointInterval(t *testing.T) {
	const interval = 10_000
	inst := mustInstrument(t, readTestdata(t, "fuel.wasm"), DefaultConfig())
	for _, eng := range engines {
		for _, tc := range []struct {
			fn    string
			args  []uint64
			slack int64 // fuel a stretch between two poll points may cost
		}{
			{"spin", nil, 1},            // one poll per iteration
			{"fib", []uint64{60}, 1000}, // polls at function entries only
		} {
			t.Run(eng.name+"/"+tc.fn, func(t *testing.T) {
				in := newInstance(t, eng.cfg(), inst)
				in.host.interval = interval
				in.host.stop = func(int64) bool { return len(in.host.seen) == 20 }
				in.setFuel(1 << 60)
				_, err := in.mod.ExportedFunction(tc.fn).Call(context.Background(), tc.args...)
				var ex *exhaustedError
				if !errors.As(err, &ex) || ex.reason != 0 {
					t.Fatalf("err %v, want the host's stop", err)
				}
				if len(in.host.seen) != 20 {
					t.Fatalf("%d checkpoint calls, want 20", len(in.host.seen))
				}
				for i := 1; i < len(in.host.seen); i++ {
					if d := in.host.seen[i-1] - in.host.seen[i]; d <= interval || d > interval+tc.slack {
						t.Errorf("checkpoint %d came %d fuel after the previous one, want (%d, %d]", i, d, interval, interval+tc.slack)
					}
				}
			})
		}
	}
}

// straightLine is a module exporting f, whose body is k segments (i32.const 0; br_if 0)
// costing 2 each, with no loop and no call.
func straightLine(k int) []byte {
	body := []byte{0} // no locals
	for range k {
		body = append(body, 0x41, 0x00, 0x0d, 0x00)
	}
	body = append(body, 0x0b)
	sec := func(id byte, payload []byte) []byte {
		return append(wasmbin.AppendU32([]byte{id}, uint32(len(payload))), payload...)
	}
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, sec(wasmbin.SecType, []byte{1, 0x60, 0, 0})...)
	m = append(m, sec(wasmbin.SecFunction, []byte{1, 0})...)
	m = append(m, sec(wasmbin.SecExport, []byte{1, 1, 'f', wasmbin.KindFunc, 0})...)
	return append(m, sec(wasmbin.SecCode, append(wasmbin.AppendU32([]byte{1}, uint32(len(body))), body...))...)
}

// TestPollThreshold: long straight-line code polls at least every MaxUnpolledCost.
func TestPollThreshold(t *testing.T) {
	const k = 2500 // under MaxBranchWork, 5 × MaxUnpolledCost
	inst := mustInstrument(t, straightLine(k), DefaultConfig())
	for _, eng := range engines {
		in := newInstance(t, eng.cfg(), inst)
		in.host.interval = 1 // every poll calls the host
		const budget = 1 << 30
		in.fuel.Set(budget)
		in.cp.Set(budget)
		if _, err := in.mod.ExportedFunction("f").Call(context.Background()); err != nil {
			t.Fatal(err)
		}
		if used := budget - int64(in.fuel.Get()); used != 2*k {
			t.Errorf("%s: used %d, want %d", eng.name, used, 2*k)
		}
		seen := append(in.host.seen, int64(in.fuel.Get()))
		if want := 2 * k / MaxUnpolledCost; len(seen) < want {
			t.Errorf("%s: %d polls, want ≥ %d", eng.name, len(seen)-1, want)
		}
		for i := 1; i < len(seen); i++ {
			if d := seen[i-1] - seen[i]; d > MaxUnpolledCost+2 {
				t.Errorf("%s: %d fuel between polls %d and %d, want ≤ %d", eng.name, d, i-1, i, MaxUnpolledCost+2)
			}
		}
	}
}

// TestCheckpointStart: a start function, which runs inside instantiation before the runtime
// can set anything, reaches the host at its first poll point (the checkpoint starts at
// InitialFuel), so it can be stopped like any call.
func TestCheckpointStart(t *testing.T) {
	inst := mustInstrument(t, readTestdata(t, "start.wasm"), DefaultConfig())
	for _, eng := range engines {
		for _, stop := range []bool{false, true} {
			ctx := context.Background()
			r, host := newRuntime(t, ctx, eng.cfg())
			host.stop = func(int64) bool { return stop }
			_, err := r.InstantiateWithConfig(ctx, inst, wazero.NewModuleConfig().WithName(""))
			switch {
			case stop && err == nil:
				t.Errorf("%s: the host could not stop the start function", eng.name)
			case !stop && (err != nil || len(host.seen) != 1 || host.seen[0] >= DefaultInitialFuel):
				t.Errorf("%s: err %v, checkpoints at %v: want one below the initial fuel", eng.name, err, host.seen)
			}
		}
	}
}
