package chain

import "errors"

// Errors. Guest failures are *wasm.Error values (trap, out of fuel, …),
// returned as they are.
var (
	// ErrNotFound reports an unknown program, receipt or height.
	ErrNotFound = errors.New("not found")
	// ErrInvalidRequest reports a malformed deploy or execute request.
	ErrInvalidRequest = errors.New("invalid request")
	// ErrInputTooLarge reports an execution input above the node's limit.
	ErrInputTooLarge = errors.New("input too large")
	// ErrRequestConflict reports a request id reused for another input.
	ErrRequestConflict = errors.New("request id already used with a different input")
	// ErrOutputUnavailable reports a replayed request whose transition was
	// finalized elsewhere and whose output this node never received.
	ErrOutputUnavailable = errors.New("output of the finalized transition is not stored on this node")
	// ErrNotInCommittee reports an execution this node cannot finalize: it
	// is not a member of the program's committee, or its own weight is
	// below the threshold and votes from peers are not available here.
	ErrNotInCommittee = errors.New("this node cannot finalize transitions of the program")
	// ErrEnvMismatch reports a program prepared for another runtime
	// environment than this node's.
	ErrEnvMismatch = errors.New("program was prepared for another runtime environment")

	// ErrInvalidTransition reports a finalized transition that does not
	// verify: bad aggregate, wrong committee, writes that do not match the
	// digest, or state roots that do not match.
	ErrInvalidTransition = errors.New("invalid transition")
	// ErrConflict reports a finalized transition at a height that already
	// holds a different one.
	ErrConflict = errors.New("conflicting transition at the same height")
	// ErrTooFarAhead reports a transition beyond the buffering window.
	ErrTooFarAhead = errors.New("transition height too far ahead of the local head")

	// ErrCorrupt reports stored records that do not decode or disagree.
	ErrCorrupt = errors.New("chain: corrupt store")
	// ErrClosed reports use of a closed engine.
	ErrClosed = errors.New("chain: engine closed")
)
