package wasm

import (
	"math/rand/v2"
)

// callState is everything one call's host functions see. It is used only
// by the goroutine running the call, except fuel (see fuelTank).
type callState struct {
	call      *Call // with defaults applied
	fuel      *fuelTank
	mem       *limitedAllocator
	overlay   overlay
	logs      logSink
	stdout    stream
	stderr    stream
	lastWarn  []byte // last onvm_log message at LevelWarn, for trap messages
	rng       *rand.ChaCha8
	elapsed   int64  // logical nanoseconds elapsed in the call
	exhausted uint32 // reason reported by the meter, 0 if none
	// writesRefused is the write-set size a refused state write would
	// have reached (checkWriteSet), 0 if none was refused.
	writesRefused int

	// initializing is true while _initialize runs: call, fuel and rng are
	// then those of the init environment (initCall), and the host functions
	// that read state or blobs trap.
	initializing bool
	// wasiState is set when the guest called a WASI function that may
	// change the instance's WASI state: the instance is not reused.
	wasiState bool
}

func newCallState(c *Call) *callState {
	s := &callState{
		call: c,
		fuel: newFuelTank(c.Fuel),
		mem:  &limitedAllocator{limit: c.MemoryLimit},
		rng:  newRNG(c.RequestID),
	}
	s.stdout = stream{s: s, source: SourceStdout, level: LevelInfo}
	s.stderr = stream{s: s, source: SourceStderr, level: LevelWarn}
	return s
}

// newInitState is the call state of _initialize for call c, whose
// initCall is ic.
func newInitState(ic *Call) *callState {
	s := newCallState(ic)
	s.rng = newInitRNG()
	s.initializing = true
	return s
}

// phase is the part of a call state that differs between _initialize and
// the call.
type phase struct {
	call         *Call
	fuel         *fuelTank
	rng          *rand.ChaCha8
	initializing bool
}

// swap installs p and returns the phase it replaced.
func (s *callState) swap(p phase) phase {
	old := phase{s.call, s.fuel, s.rng, s.initializing}
	s.call, s.fuel, s.rng, s.initializing = p.call, p.fuel, p.rng, p.initializing
	return old
}

// flushLogs closes the captured streams and returns the call's log.
func (s *callState) flushLogs() []Log {
	s.stdout.flush()
	s.stderr.flush()
	return s.logs.entries
}

// guestMessage is what the guest said about its failure: the first panic
// line on stderr, else its last stderr line, else its last warning log.
func (s *callState) guestMessage() string {
	switch {
	case s.stderr.panic != nil:
		return string(s.stderr.panic)
	case len(s.stderr.last) > 0:
		return string(s.stderr.last)
	}
	return string(s.lastWarn)
}
