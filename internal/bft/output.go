package bft

import (
	"time"

	"github.com/onvm-network/onvm/internal/id"
)

// Output is an effect of a step of the machine, for the shell to carry out
// in the order given.
type Output interface{ output() }

// SendProposal asks the shell to persist, sign and broadcast this member's
// proposal. The machine has already taken it as received. A proposal of a
// value that had a polka in an earlier round (ValidRound ≥ 0) comes with
// those prevotes: the shell sends them with it, since a member that missed
// them cannot accept the value (line 28) and, if some members are locked
// on it, no other value can be decided.
type SendProposal struct {
	Proposal Proposal
	Polka    []Vote
}

// SendVote asks the shell to persist, sign and broadcast this member's vote
// (Sig is empty: the shell signs). The machine has already counted it. A
// precommit for a value — the member is now locked on it — comes with the
// prevotes that justify the lock: the shell persists them with the vote and
// hands them back with Restore, so that after a restart the member can
// still show the polka when it proposes the value again.
type SendVote struct {
	Vote  Vote
	Polka []Vote
}

// NeedValue asks the shell for a value to propose at (Height, Round), to be
// handed in with Propose. The shell may take as long as it needs; a value
// that comes too late is ignored.
type NeedValue struct {
	Height uint64
	Round  int
}

// Validate asks the shell whether Value, proposed at (Height, Round), is
// valid — for ONVM, whether re-executing the proposed transitions against
// this member's state gives the same receipts — to be answered with Learn.
// It is asked once per value and height; until the answer, the machine
// does not vote for the value.
type Validate struct {
	Height uint64
	Round  int
	Value  id.Hash
}

// SetTimer asks the shell to call Timeout(Step, Height, Round) once After
// has passed. Timers are never cancelled: a timeout that no longer applies
// is ignored.
type SetTimer struct {
	Step   Step
	Height uint64
	Round  int
	After  time.Duration
}

// Decision is a decided value: Precommits of members holding the threshold
// weight, all for Value in Round. The machine has moved to Height+1.
type Decision struct {
	Height     uint64
	Round      int
	Value      id.Hash
	Precommits []Vote
}

// MissingValue reports that Value is certified at Height — precommits of a
// quorum in Round — but the machine cannot decide it: it was never handed
// the value's content as valid. The shell fetches the content from the
// signers (or the decided transition from the network) and hands it in
// with Learn, or catches up and calls AdvanceTo.
type MissingValue struct {
	Height uint64
	Round  int
	Value  id.Hash
}

// Equivocation is two different votes of one member for one (height,
// round, step): evidence against it. The machine counted the first only.
type Equivocation struct{ First, Second Vote }

func (SendProposal) output() {}
func (SendVote) output()     {}
func (NeedValue) output()    {}
func (Validate) output()     {}
func (SetTimer) output()     {}
func (Decision) output()     {}
func (MissingValue) output() {}
func (Equivocation) output() {}
