package bft

import "github.com/onvm-network/onvm/internal/id"

// tally is the votes of one step of one round. Each member counts once
// towards the weight of all votes, with its first vote, and towards the
// support of each value it voted for: a member that equivocates may count
// for two values, since its votes are messages the algorithm counts per
// value (a justification sent with a proposal must stay usable by a member
// that got the equivocator's other vote first). A member's third and later
// values are dropped, which bounds a round's values by twice the members.
type tally struct {
	first   []*Vote // by member: its first vote
	second  []bool  // by member: a second value counted
	weight  uint64  // of the members that voted, whatever the value
	values  []id.Hash
	support map[id.Hash]*support
}

// support is the votes for one value, by member.
type support struct {
	votes  []*Vote
	weight uint64
}

func newTally(n int) tally {
	return tally{first: make([]*Vote, n), second: make([]bool, n), support: make(map[id.Hash]*support)}
}

// add counts v with weight w. It returns the member's first vote when v is
// a different one: evidence.
func (t *tally) add(v Vote, w uint64) (conflict *Vote) {
	prev := t.first[v.From]
	switch {
	case prev == nil:
		t.first[v.From] = &v
		t.weight += w
	case prev.same(v):
		return nil
	case t.second[v.From]:
		return prev // already counted for two values
	default:
		t.second[v.From] = true
		conflict = prev
	}
	s := t.support[v.Value]
	if s == nil {
		s = &support{votes: make([]*Vote, len(t.first))}
		t.support[v.Value] = s
		t.values = append(t.values, v.Value)
	}
	if s.votes[v.From] == nil {
		s.votes[v.From] = &v
		s.weight += w
	}
	return conflict
}

// weightOf returns the weight of the votes for value.
func (t *tally) weightOf(value id.Hash) uint64 {
	if s := t.support[value]; s != nil {
		return s.weight
	}
	return 0
}

// of returns the votes for value, in member order.
func (t *tally) of(value id.Hash) []Vote {
	s := t.support[value]
	if s == nil {
		return nil
	}
	var vs []Vote
	for _, v := range s.votes {
		if v != nil {
			vs = append(vs, *v)
		}
	}
	return vs
}

// round is what a machine knows of one round of its height.
type round struct {
	proposal    *Proposal
	prevotes    tally
	precommits  tally
	equivocated []bool // by member: evidence already reported for this round

	prevoteTimer   bool             // line 34 fired
	precommitTimer bool             // line 47 fired
	polka          bool             // line 36 fired
	missing        map[id.Hash]bool // MissingValue emitted
}

func newRound(n int) *round {
	return &round{prevotes: newTally(n), precommits: newTally(n), equivocated: make([]bool, n)}
}

func (r *round) tally(s Step) *tally {
	if s == StepPrevote {
		return &r.prevotes
	}
	return &r.precommits
}
