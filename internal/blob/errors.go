package blob

import "errors"

// Sentinel errors. Every error the package returns that matches one of these
// wraps it with the operation and the blob id.
var (
	// ErrNotFound reports a blob the store has no record of.
	ErrNotFound = errors.New("blob not found")
	// ErrIncomplete reports a blob whose metadata is known but whose bytes
	// are not all present locally (an import in progress, a metadata-only
	// record, or a copy found damaged and set aside for repair).
	ErrIncomplete = errors.New("blob incomplete")
	// ErrTooLarge reports a blob larger than the store's MaxSize.
	ErrTooLarge = errors.New("blob too large")
	// ErrNoSpace reports that the disk filled up; nothing partial is left.
	ErrNoSpace = errors.New("no space left for blob")
	// ErrCorrupt reports bytes or tree nodes that do not hash to the blob id.
	ErrCorrupt = errors.New("blob data corrupt")
	// ErrBusy reports a second concurrent import of the same blob.
	ErrBusy = errors.New("blob import already in progress")
	// ErrGroupRange reports a group index outside [0, Groups(size)) asked
	// of ReadGroup (a bad request, not damaged data).
	ErrGroupRange = errors.New("blob group index out of range")
	// ErrClosed reports use of a closed store or import.
	ErrClosed = errors.New("blob store closed")
)
