package bft

import (
	"fmt"

	"github.com/onvm-network/onvm/internal/id"
)

// Step is a phase of a round.
type Step uint8

// The steps of a round, in order.
const (
	StepPropose Step = iota + 1
	StepPrevote
	StepPrecommit
)

func (s Step) String() string {
	switch s {
	case StepPropose:
		return "propose"
	case StepPrevote:
		return "prevote"
	case StepPrecommit:
		return "precommit"
	}
	return fmt.Sprintf("step(%d)", uint8(s))
}

// Nil is the value of a vote for no value.
var Nil id.Hash

// Proposal is the proposer's value for a round. ValidRound is the round
// in which the proposer saw the value get a polka (−1: none); Value is the
// id of the value, whose content the shell carries beside it.
type Proposal struct {
	Height     uint64
	Round      int
	Value      id.Hash
	ValidRound int
	From       int // member index
}

// Vote is a prevote or precommit of a member for a value id or Nil. Sig is
// opaque to the machine: the shell's signature, handed back in decisions
// and evidence.
type Vote struct {
	Step   Step // StepPrevote or StepPrecommit
	Height uint64
	Round  int
	Value  id.Hash
	From   int // member index
	Sig    []byte
}

func (v Vote) String() string {
	return fmt.Sprintf("%s h=%d r=%d from=%d value=%.8s", v.Step, v.Height, v.Round, v.From, v.Value)
}

// same reports whether two votes are the same vote, signature aside.
func (v Vote) same(w Vote) bool {
	return v.Step == w.Step && v.Height == w.Height && v.Round == w.Round && v.Value == w.Value && v.From == w.From
}
