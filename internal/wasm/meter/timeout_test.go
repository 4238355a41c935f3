package meter

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// TestInterrupt: the runtime stops a guest that has fuel to spare by storing a non-zero
// onvm_interrupt from another goroutine; every loop header and function entry polls it.
func TestInterrupt(t *testing.T) {
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
				in.fuel.Set(1 << 62)
				done := make(chan error, 1)
				go func() {
					_, err := in.mod.ExportedFunction(tc.fn).Call(context.Background(), tc.args...)
					done <- err
				}()
				deadline := time.Now().Add(30 * time.Second)
				// Wait until the guest is running (it has burnt some fuel), then interrupt it.
				for in.fuel.Get() > 1<<62-100000 && time.Now().Before(deadline) {
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
					runtime.Gosched()
				}
			})
		}
	}
}
