package dag

import "errors"

// Sentinel errors. Errors returned by the package wrap one of these with the
// operation and the vertex id or author.
var (
	// ErrNotFound reports a vertex the store does not hold.
	ErrNotFound = errors.New("vertex not found")
	// ErrInvalidVertex reports a vertex that is malformed, oversize, badly
	// signed or structurally wrong. A Rejection's Err wraps it.
	ErrInvalidVertex = errors.New("invalid vertex")
	// ErrInvalidOp reports an operation its kind's validator refused, or
	// one a Handler.Apply refused (see Handler).
	ErrInvalidOp = errors.New("invalid operation")
	// ErrUnknownKind reports an operation of a kind nobody registered.
	ErrUnknownKind = errors.New("unknown operation kind")
	// ErrQueueFull reports a Proposer queue at capacity.
	ErrQueueFull = errors.New("operation queue full")
	// ErrNoKey reports a proposal on a DAG opened without a signing key.
	ErrNoKey = errors.New("dag has no signing key")
	// ErrClosed reports use of a closed DAG.
	ErrClosed = errors.New("dag closed")
)

// Causes inside ErrInvalidVertex, distinguished for the rejection counters.
var (
	errTooLarge       = errors.New("too large")
	errMalformed      = errors.New("malformed encoding")
	errShape          = errors.New("bad shape")
	errBadSignature   = errors.New("bad signature")
	errBadParents     = errors.New("bad parents")
	errParentRejected = errors.New("descends from a rejected vertex")
)
