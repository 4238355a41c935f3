package wasm

import (
	"context"
	"errors"
	"time"

	"github.com/onvm-network/onvm/internal/wasm/meter"
	"github.com/tetratelabs/wazero/api"
)

// errHostOutOfFuel is panicked by a host function that cannot pay for its
// work, or that finds the call interrupted; wazero turns the panic into an
// error returned by the call.
var errHostOutOfFuel = errors.New("out of fuel in host call")

// fuelTank is the Go side of one call's meter globals, and the call's
// deadline. It is used only by the call's goroutine: in host functions and
// in Run between guest calls. No other goroutine ever touches the instance.
//
// The guest calls onvm_meter.exhausted(ReasonCheckpoint) at its first poll
// point after onvm_fuel falls below onvm_checkpoint; checkpoint then checks
// the deadline and the context and lowers the checkpoint by interval. So a
// guest returns to Go code at least every interval units of fuel (plus a
// bounded stretch, see meter.MaxUnpolledCost): that is when a timeout or a
// cancellation takes effect, and, since compiled wasm cannot be preempted
// by the Go scheduler, when a pending stop-the-world pause (a GC) can
// proceed. See docs/rationale/runtime.md.
type fuelTank struct {
	budget   uint64
	interval int64
	fuel, cp api.MutableGlobal // nil until instantiated, and for unmetered test runs

	ctx         context.Context // the call's context: cancellation
	deadline    time.Time       // the earlier of the timeout and ctx's deadline; zero if none
	interrupted ErrorKind       // KindTimeout or KindCancelled once interrupted
}

func newFuelTank(budget uint64) *fuelTank { return &fuelTank{budget: budget} }

// arm sets what checkpoints check: ctx's cancellation, and a deadline
// (zero: none) or ctx's own deadline, whichever is earlier. The deadline is
// compared with the clock rather than waited for, so no timer goroutine is
// needed to stop a guest (such a goroutine could not run anyway while a
// stop-the-world pause waits for the guest).
func (f *fuelTank) arm(ctx context.Context, interval int64, deadline time.Time) {
	f.ctx, f.interval = ctx, interval
	if d, ok := ctx.Deadline(); ok && (deadline.IsZero() || d.Before(deadline)) {
		deadline = d
	}
	f.deadline = deadline
}

// attach connects the tank to the instance's globals, fills it and sets
// the first checkpoint.
func (f *fuelTank) attach(fuel, cp api.MutableGlobal) {
	f.fuel, f.cp = fuel, cp
	fuel.Set(f.budget)
	f.lower()
}

// lower sets the checkpoint interval units below the fuel left (0 at
// least: the meter relies on it never being negative).
func (f *fuelTank) lower() {
	f.cp.Set(uint64(max(0, int64(f.fuel.Get())-f.interval)))
}

// checkpoint is onvm_meter.exhausted(ReasonCheckpoint): it returns 0 when
// the guest may go on (after lowering the checkpoint), ReasonOutOfFuel when
// the fuel is negative, and ReasonCheckpoint when the call was interrupted
// (see interruption). m is the calling instance: a start function calls
// before Run has attached the tank (Check refuses start functions, and Run
// refuses modules with one, but the meter supports them).
func (f *fuelTank) checkpoint(m api.Module) uint32 {
	if f.fuel == nil {
		fuel, ok1 := m.ExportedGlobal(meter.FuelExport).(api.MutableGlobal)
		cp, ok2 := m.ExportedGlobal(meter.CheckpointExport).(api.MutableGlobal)
		if !ok1 || !ok2 {
			return meter.ReasonOutOfFuel
		}
		f.fuel, f.cp = fuel, cp
	}
	if int64(f.fuel.Get()) < 0 {
		return meter.ReasonOutOfFuel
	}
	if f.poll() != 0 {
		return meter.ReasonCheckpoint
	}
	f.lower()
	return 0
}

// poll checks the context and the deadline, and returns the kind of
// interruption, or 0.
func (f *fuelTank) poll() ErrorKind {
	if f.interrupted != 0 || f.ctx == nil {
		return f.interrupted
	}
	if k := interruptKind(f.ctx); k != 0 {
		f.interrupted = k
	} else if !f.deadline.IsZero() && !time.Now().Before(f.deadline) {
		f.interrupted = KindTimeout
	}
	return f.interrupted
}

// charge takes n units for a host function, panicking with
// errHostOutOfFuel when the tank cannot pay, or when the charge crosses the
// checkpoint and the call turns out to be interrupted (the guest then stops
// with KindOutOfFuel, or with the interruption's kind). Only host functions,
// which run under wazero's recover, may call it.
func (f *fuelTank) charge(n uint64) {
	if !f.take(n) {
		panic(errHostOutOfFuel)
	}
	if f.fuel != nil && f.fuel.Get() < f.cp.Get() { // both non-negative here
		if f.poll() != 0 {
			panic(errHostOutOfFuel)
		}
		f.lower()
	}
}

// take takes n units, or reports false when the tank cannot pay, leaving
// it empty, or when the call was interrupted.
func (f *fuelTank) take(n uint64) bool {
	if f.interrupted != 0 {
		return false // fuel left as it is: used() then reports the fuel at the stop
	}
	if f.fuel == nil {
		return true
	}
	left := int64(f.fuel.Get())
	if left < 0 || uint64(left) < n {
		f.fuel.Set(^uint64(0)) // -1: exhausted
		return false
	}
	f.fuel.Set(uint64(left - int64(n)))
	return true
}

// used reports the fuel consumed so far (the whole budget once exhausted).
func (f *fuelTank) used() uint64 {
	if f.fuel == nil {
		return 0
	}
	left := int64(f.fuel.Get())
	if left < 0 {
		return f.budget
	}
	return f.budget - min(uint64(left), f.budget)
}

// interruption returns the kind of an interruption, or 0.
func (f *fuelTank) interruption() ErrorKind { return f.interrupted }
