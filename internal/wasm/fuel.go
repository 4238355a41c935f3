package wasm

import (
	"errors"
	"sync"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// drained is the value the interrupter stores into the fuel global: far
// below zero, so that no amount of guest work between two loop-header checks
// can bring it back to a non-negative value.
const drainedBits uint64 = 0xC000_0000_0000_0000 // int64: -2^62

// interruptEvery is how often a firing interrupter re-stores the drained
// value. The compiled guest updates the fuel global with plain
// load/subtract/store sequences, so one store from another goroutine can be
// overwritten by an update that started before it; storing again every
// millisecond bounds how long that can delay the stop.
const interruptEvery = time.Millisecond

// errHostOutOfFuel is panicked by a host function that cannot pay for its
// work; wazero turns the panic into an error returned by the call.
var errHostOutOfFuel = errors.New("out of fuel in host call")

// fuelTank is the Go side of the meter's fuel global for one call. Every Go
// access to the global goes through mu, so that the interrupter goroutine and
// host functions (which run on the call's goroutine) never race; the
// compiled guest code accesses the same memory outside the Go memory model,
// which is why interruption is only used with the compiler engine.
type fuelTank struct {
	mu          sync.Mutex
	g           api.MutableGlobal // nil until instantiated, and for unmetered test runs
	budget      uint64
	interrupted ErrorKind // KindTimeout or KindCancelled once an interrupter fired
	leftAtStop  int64     // fuel left when the interrupter fired
	finished    bool
	done        chan struct{}
	wg          sync.WaitGroup
}

func newFuelTank(budget uint64) *fuelTank {
	return &fuelTank{budget: budget, done: make(chan struct{})}
}

// attach connects the tank to the instance's fuel global and fills it.
func (f *fuelTank) attach(g api.MutableGlobal) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.g = g
	if f.interrupted != 0 {
		g.Set(drainedBits)
		return
	}
	g.Set(f.budget)
}

// charge takes n units, panicking with errHostOutOfFuel when the tank
// cannot pay (the guest then stops with KindOutOfFuel, or with the
// interruption's kind). Only host functions, which run under wazero's
// recover, may call it.
func (f *fuelTank) charge(n uint64) {
	if !f.take(n) {
		panic(errHostOutOfFuel)
	}
}

// take takes n units, or drains the tank and reports false when it cannot.
func (f *fuelTank) take(n uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.g == nil {
		return true
	}
	left := int64(f.g.Get())
	if f.interrupted != 0 || left < 0 || uint64(left) < n {
		f.g.Set(drainedBits)
		return false
	}
	f.g.Set(uint64(left - int64(n)))
	return true
}

// used reports the fuel consumed so far (the whole budget once exhausted).
func (f *fuelTank) used() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.g == nil {
		return 0
	}
	left := int64(f.g.Get())
	if f.interrupted != 0 {
		left = f.leftAtStop
	}
	if left < 0 {
		return f.budget
	}
	return f.budget - min(uint64(left), f.budget)
}

// interrupt stops the guest: it drains the fuel global now and every
// interruptEvery until finish is called. It runs on the goroutine of a
// context.AfterFunc or time.AfterFunc and returns only after finish.
func (f *fuelTank) interrupt(kind ErrorKind) {
	f.mu.Lock()
	if f.finished || f.interrupted != 0 {
		f.mu.Unlock()
		return
	}
	f.interrupted = kind
	f.leftAtStop = int64(f.budget)
	if f.g != nil {
		f.leftAtStop = int64(f.g.Get())
	}
	f.wg.Add(1)
	f.mu.Unlock()
	defer f.wg.Done()

	t := time.NewTicker(interruptEvery)
	defer t.Stop()
	for {
		f.mu.Lock()
		if f.g != nil {
			f.g.Set(drainedBits)
		}
		f.mu.Unlock()
		select {
		case <-f.done:
			return
		case <-t.C:
		}
	}
}

// interruption returns the kind of a fired interrupter, or 0.
func (f *fuelTank) interruption() ErrorKind {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.interrupted
}

// finish stops any interrupter and waits for it. After finish no goroutine
// other than the caller's touches the fuel global.
func (f *fuelTank) finish() {
	f.mu.Lock()
	if !f.finished {
		f.finished = true
		close(f.done)
	}
	f.mu.Unlock()
	f.wg.Wait()
}
