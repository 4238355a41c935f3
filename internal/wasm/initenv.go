package wasm

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/onvm-network/onvm/internal/id"
)

// InitFuel is the fuel budget of a module's _initialize. _initialize runs
// in an environment that does not depend on the call (initCall), so its
// result is the same for every call of a module under one memory limit: the
// runtime runs it once and restores its result (snapshot.go), and a call's
// fuel never includes it. Part of EnvHash.
const InitFuel = DefaultFuel

// initCall is the environment _initialize runs in for call c: it depends
// only on the memory limit. Logical time starts at 0, the random stream is
// a constant one (newInitRNG), the fuel budget is
// InitFuel, and state and blobs are unavailable (their host functions trap:
// they are inputs of a call, not of the module).
func initCall(c *Call) Call {
	return Call{
		Code:        c.Code,
		CodeHash:    c.CodeHash,
		Entrypoint:  InitializeExport,
		Fuel:        InitFuel,
		MemoryLimit: c.MemoryLimit,
		MaxInput:    c.MaxInput,
		MaxOutput:   c.MaxOutput,
		Timeout:     DefaultTimeout,
		unmetered:   c.unmetered,
	}
}

// newInitRNG is the random stream of _initialize, the same for every
// module (Go's runtime seeds its map hash and its internal generator from
// it; a call's own stream is keyed by its request id).
func newInitRNG() *rand.ChaCha8 {
	return rand.NewChaCha8([32]byte(id.Sum([]byte("onvm/wasm/random/init/v1"))))
}

// carry is what _initialize leaves in the call state for the call after
// it: logical time elapsed, the log so far (with unfinished lines), the
// guest's last warning, and whether a grow was refused.
type carry struct {
	elapsed        int64
	logs           logSink
	stdout, stderr streamState
	lastWarn       []byte
	refused        bool
}

type streamState struct{ partial, last, panic []byte }

// carry copies what s carries into the call after _initialize.
func (s *callState) carry() carry {
	return carry{
		elapsed:  s.elapsed,
		logs:     logSink{entries: slices.Clone(s.logs.entries), size: s.logs.size, truncated: s.logs.truncated},
		stdout:   s.stdout.state(),
		stderr:   s.stderr.state(),
		lastWarn: slices.Clone(s.lastWarn),
		refused:  s.mem.refused.Load(),
	}
}

// resume puts c into s, a fresh call state (deep copies: c is shared).
func (s *callState) resume(c *carry) {
	s.elapsed = c.elapsed
	s.logs = logSink{entries: slices.Clone(c.logs.entries), size: c.logs.size, truncated: c.logs.truncated}
	s.stdout.setState(c.stdout)
	s.stderr.setState(c.stderr)
	s.lastWarn = slices.Clone(c.lastWarn)
	if c.refused {
		s.mem.refused.Store(true)
	}
}

func (w *stream) state() streamState {
	return streamState{slices.Clone(w.partial), slices.Clone(w.last), slices.Clone(w.panic)}
}

func (w *stream) setState(st streamState) {
	w.partial, w.last, w.panic = slices.Clone(st.partial), slices.Clone(st.last), slices.Clone(st.panic)
}

// initFailure turns the failure of _initialize into the call's error: the
// same kind, logs and fuel used (the fuel _initialize used of InitFuel: a
// call that succeeds never counts it, a call that fails reports what was
// spent), the message prefixed.
func initFailure(e *Error) *Error {
	return &Error{Kind: e.Kind, Message: InitializeExport + ": " + e.Message, FuelUsed: e.FuelUsed, Logs: e.Logs, cause: e.cause}
}

// copyError returns a copy of a cached failure for one call.
func (e *Error) copyFor() *Error {
	c := *e
	c.Logs = slices.Clone(e.Logs)
	return &c
}

// errInitUnavailable is panicked by a host function that reads the call's
// state or blobs while _initialize runs.
type errInitUnavailable string

func (e errInitUnavailable) Error() string {
	return fmt.Sprintf("%s is not available in %s (state and blobs belong to calls)", string(e), InitializeExport)
}
