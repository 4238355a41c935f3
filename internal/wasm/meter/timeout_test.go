package meter

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestInterrupt: the runtime stops a guest that has fuel to spare by storing a non-zero
// onvm_interrupt from another goroutine; every loop header and function entry polls it.
//
// Compiled wasm cannot be preempted, so a stop-the-world pause (a GC) requested while the
// guest runs waits for the guest to return, and the goroutine that would set the flag waits
// with it: the GC is off for this test, and the fuel budget bounds the guest regardless.
func TestInterrupt(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	const budget = 20_000_000_000 // ~10-60 s of spinning: the bound if the flag were missed
	inst := mustInstrument(t, readTestdata(t, "fuel.wasm"), DefaultConfig())
	for _, eng := range engines {
		for _, tc := range []struct {
			fn   string
			args []uint64
		}{{"spin", nil}, {"fib", []uint64{60}}} { // a loop; deep call trees without loops
			t.Run(eng.name+"/"+tc.fn, func(t *testing.T) {
				if eng.name == "interpreter" && raceEnabled {
					// The interpreter reads globals from Go code, so the detector (rightly)
					// reports the asynchronous store; the runtime must stop the interpreter
					// another way (wazero's WithCloseOnContextDone) under -race.
					t.Skip("asynchronous global store is a reported data race on the interpreter")
				}
				in := newInstance(t, eng.cfg(), inst)
				interrupt := in.mod.ExportedGlobal(InterruptExport).(interface{ Set(uint64) })
				in.fuel.Set(budget)
				done := make(chan error, 1)
				go func() {
					_, err := in.mod.ExportedFunction(tc.fn).Call(context.Background(), tc.args...)
					done <- err
				}()
				deadline := time.Now().Add(30 * time.Second)
				// Wait until the guest is running (it has burnt some fuel), then interrupt it.
				for in.fuel.Get() > budget-100000 && time.Now().Before(deadline) {
					runtime.Gosched()
				}
				interrupt.Set(1)
				for {
					select {
					case err := <-done:
						if reasonOf(err) != ReasonInterrupted {
							t.Fatalf("err %v, want interrupted", err)
						}
						return
					default:
					}
					if time.Now().After(deadline) {
						t.Fatal("guest did not stop")
					}
					interrupt.Set(1)
					runtime.Gosched()
				}
			})
		}
	}
}
