package wasm

import (
	"errors"
	"fmt"
)

// ErrorKind classifies a failed call. Each kind is also an error value, so
// callers test with errors.Is(err, wasm.ErrOutOfFuel) and read the details
// with errors.As(err, &*wasm.Error).
type ErrorKind uint8

// The kinds of failure of Run, Check and Prepare. The text forms (String)
// are stable and used in JSON.
const (
	KindTrap           ErrorKind = iota + 1 // the guest trapped or exited; Message says why
	KindOutOfFuel                           // the fuel budget ran out (deterministic)
	KindOutOfMemory                         // linear memory would exceed the call's limit
	KindCallDepth                           // call depth limit or native stack exhausted
	KindTimeout                             // the wall-clock timeout or context deadline stopped the guest
	KindCancelled                           // the context was cancelled
	KindInvalidModule                       // the module does not decode, validate or match the ABI
	KindInvalidInput                        // the call is malformed (input too large, bad entrypoint, ...)
	KindOutputTooLarge                      // the guest returned more than MaxOutput bytes
	KindWritesTooLarge                      // the staged state writes exceeded MaxWriteSet (deterministic)
	KindCompiling                           // the module is still compiling on this node; nothing ran: retry later
)

// Sentinels for errors.Is.
var (
	ErrTrap           error = KindTrap
	ErrOutOfFuel      error = KindOutOfFuel
	ErrOutOfMemory    error = KindOutOfMemory
	ErrCallDepth      error = KindCallDepth
	ErrTimeout        error = KindTimeout
	ErrCancelled      error = KindCancelled
	ErrInvalidModule  error = KindInvalidModule
	ErrInvalidInput   error = KindInvalidInput
	ErrOutputTooLarge error = KindOutputTooLarge
	ErrWritesTooLarge error = KindWritesTooLarge
	ErrCompiling      error = KindCompiling
)

var kindNames = [...]string{
	KindTrap:           "trap",
	KindOutOfFuel:      "out_of_fuel",
	KindOutOfMemory:    "out_of_memory",
	KindCallDepth:      "call_depth_exceeded",
	KindTimeout:        "timeout",
	KindCancelled:      "cancelled",
	KindInvalidModule:  "invalid_module",
	KindInvalidInput:   "invalid_input",
	KindOutputTooLarge: "output_too_large",
	KindWritesTooLarge: "writes_too_large",
	KindCompiling:      "compiling",
}

// String returns the stable snake_case name of the kind.
func (k ErrorKind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Error implements error so that a kind is its own sentinel.
func (k ErrorKind) Error() string { return "wasm: " + k.String() }

// MarshalText encodes the kind as its String form.
func (k ErrorKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Error is the typed failure of a call. FuelUsed is deterministic for every
// kind except KindTimeout and KindCancelled; Logs holds what the guest logged
// before it failed. A failed call never returns writes.
type Error struct {
	Kind     ErrorKind `json:"kind"`
	Message  string    `json:"message"`
	FuelUsed uint64    `json:"fuel_used"`
	Logs     []Log     `json:"logs,omitempty"`
	// Limit names the module limit an invalid module exceeds (meter.LimitError), if any.
	Limit string `json:"limit,omitempty"`
	cause error  // engine error, for the node's own logs; never consensus-relevant
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Kind.Error()
	}
	return e.Kind.Error() + ": " + e.Message
}

// Is reports whether target is e's kind.
func (e *Error) Is(target error) bool {
	k, ok := target.(ErrorKind)
	return ok && k == e.Kind
}

// Unwrap returns the underlying engine error, if any.
func (e *Error) Unwrap() error { return e.cause }

func newError(kind ErrorKind, cause error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...), cause: cause}
}

// KindOf returns the kind of err, or 0 when err is not from this package.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	var k ErrorKind
	if errors.As(err, &k) {
		return k
	}
	return 0
}

// ErrClosed is returned by Run after Close.
var ErrClosed = errors.New("wasm: runtime closed")
