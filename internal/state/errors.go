package state

import "errors"

var (
	// ErrRootMismatch is returned by Apply when the program's current root is
	// not the root the caller expected; nothing is staged.
	ErrRootMismatch = errors.New("state: root mismatch")

	// ErrUnknownRoot is returned by Prove for a root the program never
	// committed (or one that was pruned).
	ErrUnknownRoot = errors.New("state: unknown root")

	// ErrInvalidProof is returned by Verify when a proof does not bind the
	// key and value (or absence) to the root.
	ErrInvalidProof = errors.New("state: invalid proof")

	// ErrCorrupt reports a stored record that does not decode or a tree
	// reference with no record behind it.
	ErrCorrupt = errors.New("state: corrupt store")
)
