package committee

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/onvm-network/onvm/internal/bft"
	"github.com/onvm-network/onvm/internal/bls"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
)

// instance is one program's agreement on this node: its machine and what
// the shell keeps beside it for the current height. in.mu serialises
// everything but the application's Propose and Validate calls.
type instance struct {
	p    id.Program
	c    *consensus.Committee
	self int // member index, −1: following only

	mu      sync.Mutex
	m       *bft.Machine
	content map[id.Hash][]byte                 // values' content seen at this height
	own     map[ownKey]ownMsg                  // what this member signed at this height
	ticking bool                               // a resend tick is scheduled
	touched bool                               // a message of the height arrived since the last tick
	asked   time.Time                          // when decided heights were last asked for
	checked map[bls.Signature]consensus.Ballot // signatures verified at this height, with their ballots
}

type ownKey struct {
	round int
	step  uint8 // 1 proposal, 2 prevote, 3 precommit
}

type ownMsg struct {
	proposal *consensus.SignedProposal
	ballot   *consensus.SignedBallot
	polka    []consensus.SignedBallot
}

// maxContents bounds the values' contents kept for one height.
const maxContents = 16

// maxChecked bounds the verified signatures remembered for one height.
const maxChecked = 1024

// height is the height the instance decides.
func (in *instance) height() uint64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.m.Height()
}

func (in *instance) reset() {
	in.content = make(map[id.Hash][]byte)
	in.own = make(map[ownKey]ownMsg)
	in.checked = make(map[bls.Signature]consensus.Ballot)
}

// verify checks a member's signed ballot against the committee, once: the
// same ballot sent again (members resend while a height is open) is not
// verified again.
func (in *instance) verify(sb *consensus.SignedBallot) error {
	if b, ok := in.checked[sb.Signature]; ok && b == sb.Ballot {
		return nil
	}
	if err := sb.Verify(in.c); err != nil {
		return err
	}
	if len(in.checked) < maxChecked {
		in.checked[sb.Signature] = sb.Ballot
	}
	return nil
}

func (in *instance) ballot(v bft.Vote) consensus.Ballot {
	return consensus.Ballot{
		Program: in.p, Epoch: in.c.Epoch, Height: v.Height, Round: uint32(v.Round),
		Step: consensus.Step(v.Step), Value: v.Value,
	}
}

// certified returns the ballot a decision certifies.
func (in *instance) certified(d bft.Decision) consensus.Ballot {
	return in.ballot(bft.Vote{Step: bft.StepPrecommit, Height: d.Height, Round: d.Round, Value: d.Value})
}

func fromBallot(sb *consensus.SignedBallot) bft.Vote {
	b := sb.Ballot
	return bft.Vote{Step: bft.Step(b.Step), Height: b.Height, Round: int(b.Round), Value: b.Value, From: int(sb.Member), Sig: sb.Signature[:]}
}

func fromProposal(sp *consensus.SignedProposal) bft.Proposal {
	p := sp.Proposal
	return bft.Proposal{Height: p.Height, Round: int(p.Round), Value: p.Value, ValidRound: int(p.ValidRound), From: int(sp.Member)}
}

// signed returns the signed ballot of a vote the machine counted: its own
// from what it signed, another member's from the signature it carried.
func (in *instance) signed(v bft.Vote) (consensus.SignedBallot, bool) {
	if v.From == in.self {
		if o, ok := in.own[ownKey{v.Round, uint8(v.Step)}]; ok && o.ballot != nil && o.ballot.Ballot.Value == v.Value {
			return *o.ballot, true
		}
		return consensus.SignedBallot{}, false
	}
	var sig bls.Signature
	if len(v.Sig) != len(sig) {
		return consensus.SignedBallot{}, false
	}
	copy(sig[:], v.Sig)
	return consensus.SignedBallot{Ballot: in.ballot(v), Member: uint32(v.From), Signature: sig}, true
}

func (in *instance) signedAll(vs []bft.Vote) []consensus.SignedBallot {
	out := make([]consensus.SignedBallot, 0, len(vs))
	for _, v := range vs {
		if sb, ok := in.signed(v); ok {
			out = append(out, sb)
		}
	}
	return out
}

// ownSorted returns what this member signed at the height, by round and
// step.
func (in *instance) ownSorted() []ownKey {
	keys := make([]ownKey, 0, len(in.own))
	for k := range in.own {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b ownKey) int {
		if c := cmp.Compare(a.round, b.round); c != 0 {
			return c
		}
		return cmp.Compare(a.step, b.step)
	})
	return keys
}

// lastRound returns the last round this member signed a message in at the
// height (−1: none).
func (in *instance) lastRound() int {
	last := -1
	for k := range in.own {
		last = max(last, k.round)
	}
	return last
}

// timeNow is the shell's clock.
var timeNow = time.Now
