package job

import (
	"errors"
	"strings"
)

// Errors.
var (
	// ErrNotFound reports an unknown job.
	ErrNotFound = errors.New("job not found")
	// ErrInvalid reports a malformed submission or query.
	ErrInvalid = errors.New("invalid job request")
	// ErrConflict reports a request id reused for the same program with a
	// different payload; the error is a *ConflictError naming the fields.
	ErrConflict = errors.New("request id already used with a different payload")
	// ErrTerminal reports an operation on a job that already finished.
	ErrTerminal = errors.New("job already in a terminal state")
	// ErrNotCompleted reports an output asked of a job that did not
	// complete (yet).
	ErrNotCompleted = errors.New("job has no output: it did not complete")
	// ErrQueueFull reports a submission refused because max_pending jobs
	// are waiting.
	ErrQueueFull = errors.New("job queue is full")
	// ErrInputTooLarge reports an inline input above the node's limit.
	ErrInputTooLarge = errors.New("job input too large")
	// ErrClosed reports use of a closed service.
	ErrClosed = errors.New("job service closed")
	// ErrTransition reports an event the state machine refuses in the
	// job's current state.
	ErrTransition = errors.New("transition not allowed")
	// ErrNotReplicable reports a record that cannot be signed for
	// replication (not terminal, expired, or imported from a peer).
	ErrNotReplicable = errors.New("job record is not replicable")
	// ErrCorrupt reports a stored record that does not decode.
	ErrCorrupt = errors.New("job: corrupt store")
)

// ConflictError names the submission fields that differ from the stored
// job with the same id.
type ConflictError struct {
	Fields []string
}

func (e *ConflictError) Error() string {
	return ErrConflict.Error() + ": " + strings.Join(e.Fields, ", ")
}

func (e *ConflictError) Unwrap() error { return ErrConflict }

func errorsJoin(errs ...error) error { return errors.Join(errs...) }
