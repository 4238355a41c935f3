package wasm

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero/api"
)

// errHostOutOfFuel is panicked by a host function that cannot pay for its
// work; wazero turns the panic into an error returned by the call.
var errHostOutOfFuel = errors.New("out of fuel in host call")

// fuelTank is the Go side of one call's meter globals. fuel is read and
// written only on the call's goroutine (host functions, and Run between
// guest calls). flag, the interrupt global, is written by interrupt from
// any goroutine and read only by compiled guest code, which checks it at
// every function entry and loop header. (Storing a negative fuel from
// another goroutine does not work: the guest's own load-subtract-store of
// the fuel global overwrites it, and in a tight loop its loads are forwarded
// from its own pending store, so the foreign store is never read — measured,
// see docs/rationale/runtime.md.)
type fuelTank struct {
	budget uint64
	fuel   api.MutableGlobal // nil until instantiated, and for unmetered test runs

	mu          sync.Mutex        // orders interrupt against attach and finish
	flag        api.MutableGlobal // nil until instantiated
	interrupted atomic.Uint32     // ErrorKind: KindTimeout or KindCancelled once interrupted
	finished    bool
}

func newFuelTank(budget uint64) *fuelTank { return &fuelTank{budget: budget} }

// attach connects the tank to the instance's globals and fills it.
func (f *fuelTank) attach(fuel, flag api.MutableGlobal) {
	fuel.Set(f.budget)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fuel, f.flag = fuel, flag
	if f.interrupted.Load() != 0 {
		flag.Set(1)
	} else {
		flag.Set(0)
	}
}

// charge takes n units, panicking with errHostOutOfFuel when the tank
// cannot pay or the call was interrupted (the guest then stops with
// KindOutOfFuel, or with the interruption's kind). Only host functions,
// which run under wazero's recover, may call it.
func (f *fuelTank) charge(n uint64) {
	if !f.take(n) {
		panic(errHostOutOfFuel)
	}
}

// take takes n units, or reports false when the tank cannot pay, leaving
// it empty.
func (f *fuelTank) take(n uint64) bool {
	if f.interruption() != 0 {
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

// interrupt stops the guest at its next function entry or loop header. It
// may be called from any goroutine, any number of times.
func (f *fuelTank) interrupt(kind ErrorKind) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.finished || f.interrupted.Load() != 0 {
		return
	}
	f.interrupted.Store(uint32(kind))
	if f.flag != nil {
		f.flag.Set(1)
	}
}

// interruption returns the kind of an interruption, or 0.
func (f *fuelTank) interruption() ErrorKind { return ErrorKind(f.interrupted.Load()) }

// finish makes later interrupts no-ops. After it returns no other goroutine
// touches the instance.
func (f *fuelTank) finish() {
	f.mu.Lock()
	f.finished = true
	f.mu.Unlock()
}
