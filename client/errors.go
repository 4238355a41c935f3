package client

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/onvm-network/onvm/client/wire"
)

// Error is a non-2xx answer from the node. Match it with errors.Is against
// an ErrorCode (one of the node's codes) or a class sentinel such as
// ErrNotFound, or take it apart with errors.As.
type Error struct {
	Status  int    // HTTP status
	Code    string // the node's error code, e.g. "not_found" (wire.Code…)
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s (HTTP %d %s)", e.Message, e.Status, e.Code)
}

// Is matches an ErrorCode by the node's code and a status sentinel by the
// HTTP status.
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case ErrorCode:
		return e.Code == string(t)
	case *statusError:
		return e.Status == t.status
	}
	return false
}

// ErrorCode is one of the node's error codes as a sentinel:
// errors.Is(err, client.ErrorCode(wire.CodeJobTerminal)) reports whether
// the node answered with that code.
type ErrorCode string

func (c ErrorCode) Error() string { return "onvm: " + string(c) }

// Sentinels for the codes callers most often branch on.
var (
	ErrJobNotCompleted = ErrorCode(wire.CodeJobNotCompleted)
	ErrJobTerminal     = ErrorCode(wire.CodeJobTerminal)
	ErrRequestConflict = ErrorCode(wire.CodeRequestConflict)
	ErrMinPeers        = ErrorCode(wire.CodeMinPeers)
)

// statusError is a sentinel for a class of answers by HTTP status.
type statusError struct {
	status int
	name   string
}

func (e *statusError) Error() string { return "onvm: " + e.name }

// Sentinels by status: ErrNotFound is any 404 (an unknown blob, program,
// job, receipt or root, or a blob not all stored here), ErrUnauthorized
// any failed authentication (401), ErrRateLimited a 429.
var (
	ErrNotFound     error = &statusError{http.StatusNotFound, "not found"}
	ErrUnauthorized error = &statusError{http.StatusUnauthorized, "unauthorized"}
	ErrRateLimited  error = &statusError{http.StatusTooManyRequests, "rate limited"}
)

// IsNotFound reports whether err is a 404 from the node; it is
// errors.Is(err, ErrNotFound).
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
