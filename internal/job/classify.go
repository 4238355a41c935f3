package job

import (
	"errors"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/program"
	"github.com/onvm-network/onvm/internal/wasm"
)

// Causes with which the scheduler stops a running attempt (context.Cause).
var (
	errCancelledByClient = errors.New("job cancelled by client")
	errShutdown          = errors.New("node shutting down")
)

// errNotRunning aborts a transition whose job stopped running (cancelled)
// while its guest ran.
var errNotRunning = errors.New("job is no longer running")

// errOutputLimit reports an output above jobs.max_output.
var errOutputLimit = errors.New("output larger than jobs.max_output")

// verdict is what a failed attempt means for its job.
type verdict struct {
	kind      EventKind // EvFail, EvTimeout, EvRequeue, or EvCancel (already recorded)
	reason    Reason
	transient bool
	fuel      uint64
}

// classify decides what the error of an attempt means. cause is the
// context cause the scheduler stopped the attempt with (nil if it did
// not). Only failures that can go away by themselves are transient: the
// node shutting down (requeued, not counted), code or input not stored
// here yet, a committee out of reach, resource exhaustion and node-side
// errors. What the guest did — trap, out of fuel or memory, call depth,
// output or state writes too large — and an invalid program or input fail
// at once: running them again gives the same result.
func classify(err, cause error) verdict {
	switch {
	case errors.Is(cause, errCancelledByClient):
		return verdict{kind: EvCancel}
	case errors.Is(cause, errShutdown), errors.Is(err, chain.ErrClosed), errors.Is(err, wasm.ErrClosed):
		return verdict{kind: EvRequeue}
	}
	var we *wasm.Error
	var fuel uint64
	if errors.As(err, &we) {
		fuel = we.FuelUsed
	}
	det := func(r Reason) verdict { return verdict{kind: EvFail, reason: r, fuel: fuel} }
	transient := func(r Reason) verdict { return verdict{kind: EvFail, reason: r, transient: true, fuel: fuel} }
	switch wasm.KindOf(err) {
	case wasm.KindTrap:
		return det(ReasonExecutionError)
	case wasm.KindOutOfFuel:
		return det(ReasonOutOfFuel)
	case wasm.KindOutOfMemory:
		return det(ReasonOutOfMemory)
	case wasm.KindCallDepth:
		return det(ReasonCallDepth)
	case wasm.KindOutputTooLarge:
		return det(ReasonOutputTooLarge)
	case wasm.KindWritesTooLarge:
		return det(ReasonWritesTooLarge)
	case wasm.KindInvalidModule:
		return det(ReasonInvalidProgram)
	case wasm.KindInvalidInput:
		return det(ReasonInvalidInput)
	case wasm.KindTimeout:
		return verdict{kind: EvTimeout, reason: ReasonTimeout, fuel: fuel}
	case wasm.KindCancelled:
		// Stopped by a context the scheduler did not cancel: try again.
		return verdict{kind: EvRequeue}
	}
	switch {
	case errors.Is(err, errOutputLimit):
		return det(ReasonOutputTooLarge)
	case errors.Is(err, chain.ErrNotFound), errors.Is(err, program.ErrNotFound), errors.Is(err, chain.ErrEnvMismatch):
		return det(ReasonInvalidProgram)
	case errors.Is(err, chain.ErrInputTooLarge), errors.Is(err, chain.ErrInvalidRequest), errors.Is(err, chain.ErrRequestConflict):
		return det(ReasonInvalidInput)
	case errors.Is(err, chain.ErrOutputUnavailable):
		return det(ReasonExecutionError)
	case errors.Is(err, blob.ErrNotFound), errors.Is(err, blob.ErrIncomplete):
		return transient(ReasonMissingDependency)
	case errors.Is(err, chain.ErrNotInCommittee):
		return transient(ReasonNetworkError)
	case errors.Is(err, blob.ErrNoSpace), errors.Is(err, ErrQueueFull):
		return transient(ReasonInsufficientResources)
	}
	return transient(ReasonSchedulerError)
}
