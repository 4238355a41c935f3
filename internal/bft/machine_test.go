package bft

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/onvm-network/onvm/internal/id"
)

var (
	vA = id.Sum([]byte("a"))
	vB = id.Sum([]byte("b"))
	vC = id.Sum([]byte("c"))
)

// four returns a machine of a four-member committee (weights 1, threshold
// 3) as member self, at height 1. Round r of height 1 is proposed by
// member r mod 4.
func four(t *testing.T, self int) *Machine {
	t.Helper()
	m, err := New(Config{Weights: []uint64{1, 1, 1, 1}, Threshold: 3, Self: self}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// expect drains m and compares with want.
func expect(t *testing.T, m *Machine, want ...Output) {
	t.Helper()
	got := m.Drain()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("outputs (-want +got):\n%s", diff)
	}
}

func prevote(h uint64, r, from int, v id.Hash) Vote {
	return Vote{Step: StepPrevote, Height: h, Round: r, Value: v, From: from}
}

func precommit(h uint64, r, from int, v id.Hash) Vote {
	return Vote{Step: StepPrecommit, Height: h, Round: r, Value: v, From: from}
}

func timer(s Step, h uint64, r int) SetTimer {
	return SetTimer{Step: s, Height: h, Round: r, After: DefaultTimeouts.after(s, r)}
}

func TestAsleepUntilWoken(t *testing.T) {
	m := four(t, 1)
	expect(t, m)
	m.Timeout(StepPropose, 1, 0) // a timer never set
	expect(t, m)
	m.Wake()
	expect(t, m, timer(StepPropose, 1, 0))
	m.Wake()
	expect(t, m)
}

func TestProposerAsksForAValueAndProposesIt(t *testing.T) {
	m := four(t, 0)
	m.Wake()
	expect(t, m, NeedValue{Height: 1, Round: 0}, timer(StepPropose, 1, 0))
	m.Propose(1, 1, vB) // another round: ignored
	expect(t, m)
	m.Propose(1, 0, vA)
	expect(t, m,
		SendProposal{Proposal: Proposal{Height: 1, Round: 0, Value: vA, ValidRound: -1, From: 0}},
		SendVote{Vote: prevote(1, 0, 0, vA)})
	m.Propose(1, 0, vB) // a second value for the round: ignored
	expect(t, m)
}

func TestPrevoteFollowsTheVerdict(t *testing.T) {
	for _, tc := range []struct {
		name  string
		valid bool
		want  id.Hash
	}{
		{"valid", true, vA},
		{"invalid", false, Nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := four(t, 1)
			m.Proposal(Proposal{Height: 1, Round: 0, Value: vA, ValidRound: -1, From: 0})
			expect(t, m, Validate{Height: 1, Round: 0, Value: vA}, timer(StepPropose, 1, 0))
			m.Learn(m.Height(), vA, tc.valid)
			expect(t, m, SendVote{Vote: prevote(1, 0, 1, tc.want)})
		})
	}
}

func TestProposeTimeoutPrevotesNil(t *testing.T) {
	m := four(t, 1)
	m.Wake()
	expect(t, m, timer(StepPropose, 1, 0))
	m.Timeout(StepPropose, 1, 3) // stale: another round
	m.Timeout(StepPrevote, 1, 0) // not in that step
	expect(t, m)
	m.Timeout(StepPropose, 1, 0)
	expect(t, m, SendVote{Vote: prevote(1, 0, 1, Nil)})
	m.Proposal(Proposal{Height: 1, Round: 0, Value: vA, ValidRound: -1, From: 0}) // too late to prevote
	expect(t, m, Validate{Height: 1, Round: 0, Value: vA})
	m.Learn(m.Height(), vA, true)
	expect(t, m)
}

// prevoted returns member 1 having prevoted vA in round 0 of height 1.
func prevoted(t *testing.T) *Machine {
	t.Helper()
	m := four(t, 1)
	m.Proposal(Proposal{Height: 1, Round: 0, Value: vA, ValidRound: -1, From: 0})
	m.Learn(m.Height(), vA, true)
	m.Drain()
	return m
}

func TestPolkaLocksAndPrecommits(t *testing.T) {
	m := prevoted(t)
	m.Vote(prevote(1, 0, 0, vA))
	expect(t, m)
	m.Vote(prevote(1, 0, 2, vA))
	expect(t, m, SendVote{
		Vote:  precommit(1, 0, 1, vA),
		Polka: []Vote{prevote(1, 0, 0, vA), prevote(1, 0, 1, vA), prevote(1, 0, 2, vA)},
	})
	if v, r := m.Locked(); v != vA || r != 0 {
		t.Fatalf("locked on %.8s in round %d, want %.8s in round 0", v, r, vA)
	}
	m.Vote(prevote(1, 0, 3, vA)) // a fourth prevote changes nothing
	expect(t, m)
}

func TestNilPolkaPrecommitsNil(t *testing.T) {
	m := prevoted(t)
	m.Vote(prevote(1, 0, 0, Nil))
	expect(t, m)
	m.Vote(prevote(1, 0, 2, Nil)) // a quorum of prevotes, none of one value: line 34
	expect(t, m, timer(StepPrevote, 1, 0))
	m.Vote(prevote(1, 0, 3, Nil)) // a quorum for nil: line 44
	expect(t, m, SendVote{Vote: precommit(1, 0, 1, Nil)})
	if _, r := m.Locked(); r != -1 {
		t.Fatalf("locked in round %d after a nil polka", r)
	}
}

func TestPrevoteTimeoutPrecommitsNil(t *testing.T) {
	m := prevoted(t)
	m.Vote(prevote(1, 0, 0, vB))
	m.Vote(prevote(1, 0, 2, Nil))
	expect(t, m, timer(StepPrevote, 1, 0))
	m.Timeout(StepPrevote, 1, 0)
	expect(t, m, SendVote{Vote: precommit(1, 0, 1, Nil)})
	m.Timeout(StepPrevote, 1, 0) // fired twice: the step is past
	expect(t, m)
}

func TestPrecommitTimeoutStartsTheNextRound(t *testing.T) {
	m := prevoted(t)
	m.Timeout(StepPrevote, 1, 0) // no timer was set, but timeouts are taken as given
	expect(t, m, SendVote{Vote: precommit(1, 0, 1, Nil)})
	m.Vote(precommit(1, 0, 0, Nil))
	m.Vote(precommit(1, 0, 2, vA))
	expect(t, m, timer(StepPrecommit, 1, 0))
	m.Timeout(StepPrecommit, 1, 0)
	// Round 1 is this member's to propose.
	expect(t, m, NeedValue{Height: 1, Round: 1}, timer(StepPropose, 1, 1))
	if m.Round() != 1 || m.Step() != StepPropose {
		t.Fatalf("round %d step %s, want 1 propose", m.Round(), m.Step())
	}
}

func TestDecidesOnAQuorumOfPrecommits(t *testing.T) {
	m := prevoted(t)
	m.Vote(prevote(1, 0, 0, vA))
	m.Vote(prevote(1, 0, 2, vA))
	m.Drain()
	m.Vote(precommit(1, 0, 0, vA))
	expect(t, m)
	m.Vote(precommit(1, 0, 3, vA))
	expect(t, m, Decision{Height: 1, Round: 0, Value: vA, Precommits: []Vote{
		precommit(1, 0, 0, vA), precommit(1, 0, 1, vA), precommit(1, 0, 3, vA),
	}})
	if m.Height() != 2 || m.Round() != 0 || m.Awake() {
		t.Fatalf("after the decision: height %d round %d awake %v, want 2 0 false", m.Height(), m.Round(), m.Awake())
	}
	if _, r := m.Locked(); r != -1 {
		t.Fatal("the lock outlived its height")
	}
	m.Vote(precommit(1, 0, 2, vA)) // late vote of the decided height
	expect(t, m)
}

// locked returns member 2 locked on vA in round 0 and moved to round 1.
func locked(t *testing.T) *Machine {
	t.Helper()
	m := four(t, 2)
	m.Proposal(Proposal{Height: 1, Round: 0, Value: vA, ValidRound: -1, From: 0})
	m.Learn(m.Height(), vA, true)
	m.Vote(prevote(1, 0, 0, vA))
	m.Vote(prevote(1, 0, 1, vA))
	m.Vote(precommit(1, 0, 0, Nil))
	m.Vote(precommit(1, 0, 1, Nil))
	m.Timeout(StepPrecommit, 1, 0)
	m.Drain()
	if v, r := m.Locked(); v != vA || r != 0 || m.Round() != 1 {
		t.Fatalf("setup: locked on %.8s in %d at round %d", v, r, m.Round())
	}
	return m
}

func TestLockedMemberRefusesAnotherValue(t *testing.T) {
	m := locked(t)
	m.Proposal(Proposal{Height: 1, Round: 1, Value: vB, ValidRound: -1, From: 1})
	expect(t, m, Validate{Height: 1, Round: 1, Value: vB})
	m.Learn(m.Height(), vB, true)
	expect(t, m, SendVote{Vote: prevote(1, 1, 2, Nil)})
}

func TestLockedMemberPrevotesItsValueAgain(t *testing.T) {
	m := locked(t)
	m.Proposal(Proposal{Height: 1, Round: 1, Value: vA, ValidRound: -1, From: 1})
	expect(t, m, SendVote{Vote: prevote(1, 1, 2, vA)}) // the verdict on vA is known
}

func TestLaterPolkaReleasesTheLock(t *testing.T) {
	m := locked(t)
	// Round 1 had a polka for vB, whose content this member never got.
	for _, from := range []int{0, 1, 3} {
		m.Vote(prevote(1, 1, from, vB))
	}
	m.Vote(precommit(1, 3, 0, Nil))
	m.Vote(precommit(1, 3, 1, Nil))
	expect(t, m, timer(StepPropose, 1, 3))
	// Round 3's proposer re-proposes vB with valid round 1: the lock of
	// round 0 gives way to the later polka.
	m.Proposal(Proposal{Height: 1, Round: 3, Value: vB, ValidRound: 1, From: 3})
	expect(t, m, Validate{Height: 1, Round: 3, Value: vB})
	m.Learn(m.Height(), vB, true)
	expect(t, m, SendVote{Vote: prevote(1, 3, 2, vB)})
}

func TestProposerReproposesItsValidValue(t *testing.T) {
	m := four(t, 1) // proposes round 1
	m.Proposal(Proposal{Height: 1, Round: 0, Value: vA, ValidRound: -1, From: 0})
	m.Learn(m.Height(), vA, true)
	m.Vote(prevote(1, 0, 0, vA))
	m.Vote(prevote(1, 0, 2, vA))
	m.Vote(precommit(1, 0, 0, Nil))
	m.Vote(precommit(1, 0, 2, Nil))
	m.Drain()
	m.Timeout(StepPrecommit, 1, 0)
	expect(t, m,
		SendProposal{
			Proposal: Proposal{Height: 1, Round: 1, Value: vA, ValidRound: 0, From: 1},
			Polka:    []Vote{prevote(1, 0, 0, vA), prevote(1, 0, 1, vA), prevote(1, 0, 2, vA)},
		},
		timer(StepPropose, 1, 1),
		SendVote{Vote: prevote(1, 1, 1, vA)})
}

func TestSkipsToARoundOthersAreIn(t *testing.T) {
	m := four(t, 2)
	m.Wake()
	m.Drain()
	m.Vote(prevote(1, 3, 0, Nil)) // one member could be faulty
	expect(t, m)
	m.Vote(precommit(1, 5, 1, Nil)) // two are not: some honest one is at round 3 or above
	expect(t, m, timer(StepPropose, 1, 3))
	if m.Round() != 3 {
		t.Fatalf("round %d, want 3", m.Round())
	}
}

func TestVotesFarAheadOnlyCountForSkipping(t *testing.T) {
	m := four(t, 2)
	far := DefaultWindow + 1
	for _, from := range []int{0, 1, 3} {
		m.Vote(precommit(1, far, from, vA))
	}
	m.Drain()
	// The votes were too far ahead to be kept: the certificate they formed
	// is not seen, but the machine moved to their round.
	if m.Height() != 1 || m.Round() != far {
		t.Fatalf("height %d round %d, want 1 %d", m.Height(), m.Round(), far)
	}
}

func TestEquivocationIsEvidence(t *testing.T) {
	m := prevoted(t)
	first, second := prevote(1, 0, 0, vA), prevote(1, 0, 0, vB)
	m.Vote(first)
	m.Vote(first) // a duplicate is not evidence
	expect(t, m)
	m.Vote(second)
	expect(t, m, Equivocation{First: first, Second: second})
	m.Vote(prevote(1, 0, 0, vC)) // reported once
	expect(t, m)
	// The second vote is not counted: vB has no weight.
	m.Vote(prevote(1, 0, 2, vB))
	m.Vote(prevote(1, 0, 3, vB))
	expect(t, m, timer(StepPrevote, 1, 0))
}

func TestMalformedMessagesAreDropped(t *testing.T) {
	m := four(t, 1)
	for _, v := range []Vote{
		prevote(1, 0, 4, vA), prevote(1, 0, -1, vA), prevote(1, -1, 0, vA),
		{Step: StepPropose, Height: 1, Round: 0, Value: vA, From: 0},
		{Step: 9, Height: 1, Round: 0, Value: vA, From: 0},
		prevote(0, 0, 0, vA), prevote(7, 0, 0, vA),
	} {
		m.Vote(v)
	}
	for _, p := range []Proposal{
		{Height: 1, Round: 0, Value: vA, ValidRound: -1, From: 2}, // not round 0's proposer
		{Height: 1, Round: 0, Value: Nil, ValidRound: -1, From: 0},
		{Height: 1, Round: 1, Value: vA, ValidRound: 1, From: 1},  // valid round not below the round
		{Height: 1, Round: 1, Value: vA, ValidRound: -2, From: 1}, // no such round
		{Height: 1, Round: -1, Value: vA, ValidRound: -1, From: 3},
	} {
		m.Proposal(p)
	}
	expect(t, m)
	if m.Awake() {
		t.Fatal("woken by malformed messages")
	}
}

func TestNextHeightMessagesWaitForIt(t *testing.T) {
	m := prevoted(t)
	// Height 2, proposed by member 1 — this one — in round 0, by member 2
	// in round 1. Its precommits arrive before height 1 is decided.
	p := Proposal{Height: 2, Round: 1, Value: vB, ValidRound: -1, From: 2}
	m.Proposal(p)
	for _, from := range []int{0, 2, 3} {
		m.Vote(precommit(2, 1, from, vB))
	}
	expect(t, m)
	m.Vote(prevote(1, 0, 0, vA))
	m.Vote(prevote(1, 0, 2, vA))
	m.Vote(precommit(1, 0, 0, vA))
	m.Vote(precommit(1, 0, 2, vA))
	out := m.Drain()
	if len(out) < 2 {
		t.Fatalf("outputs %v", out)
	}
	if d, ok := out[1].(Decision); !ok || d.Height != 1 {
		t.Fatalf("second output %#v, want the decision of height 1", out[1])
	}
	// Height 2 took its kept messages: it asks to validate vB, wakes (and,
	// proposing round 0, asks for a value), and skips to round 1.
	want := []Output{
		Validate{Height: 2, Round: 1, Value: vB},
		NeedValue{Height: 2, Round: 0}, timer(StepPropose, 2, 0),
		timer(StepPropose, 2, 1),
	}
	if diff := cmp.Diff(want, out[2:]); diff != "" {
		t.Fatalf("height 2 outputs (-want +got):\n%s", diff)
	}
	m.Learn(m.Height(), vB, true)
	d := m.Drain()
	if len(d) != 1 || d[0].(Decision).Height != 2 || m.Height() != 3 {
		t.Fatalf("after the verdict: %v at height %d", d, m.Height())
	}
}

func TestMissingValueIsReportedThenLearnt(t *testing.T) {
	m := four(t, 1)
	for _, from := range []int{0, 2, 3} {
		m.Vote(precommit(1, 2, from, vC))
	}
	out := m.Drain()
	want := MissingValue{Height: 1, Round: 2, Value: vC}
	if len(out) == 0 || out[len(out)-1] != Output(want) {
		t.Fatalf("outputs %v, want them to end with %v", out, want)
	}
	m.Vote(precommit(1, 2, 0, vC)) // reported once
	m.Learn(m.Height(), vC, false) // a value a quorum certified is never decided while invalid here
	expect(t, m)
	m.Learn(m.Height(), vC, true)
	out = m.Drain()
	if len(out) != 1 || out[0].(Decision).Value != vC {
		t.Fatalf("outputs %v, want the decision of vC", out)
	}
}

func TestAdvanceToCatchesUp(t *testing.T) {
	m := prevoted(t)
	m.AdvanceTo(5)
	if m.Height() != 5 || m.Awake() {
		t.Fatalf("height %d awake %v, want 5 asleep", m.Height(), m.Awake())
	}
	m.AdvanceTo(3) // behind: ignored
	m.Vote(precommit(4, 0, 0, vA))
	expect(t, m)
	if m.Height() != 5 {
		t.Fatalf("height %d, want 5", m.Height())
	}
}

func TestRestoreNeverContradictsSentVotes(t *testing.T) {
	// Member 2 prevoted and precommitted vA in round 0, then crashed.
	sent := []Vote{prevote(1, 0, 2, vA), precommit(1, 0, 2, vA)}
	m := four(t, 2)
	m.Restore(nil, sent)
	if v, r := m.Locked(); v != vA || r != 0 || m.Step() != StepPrecommit {
		t.Fatalf("restored locked on %.8s in %d at step %s", v, r, m.Step())
	}
	m.Wake()
	expect(t, m, timer(StepPrecommit, 1, 0))
	m.Proposal(Proposal{Height: 1, Round: 0, Value: vB, ValidRound: -1, From: 0})
	m.Learn(m.Height(), vB, true)
	m.Timeout(StepPropose, 1, 0)
	for _, from := range []int{0, 1, 3} {
		m.Vote(prevote(1, 0, from, vB))
	}
	out := m.Drain()
	for _, o := range out {
		if s, ok := o.(SendVote); ok {
			t.Fatalf("sent %v after restoring votes of round 0", s.Vote)
		}
	}
	// In round 1 it still refuses vB: it is locked on vA.
	m.Vote(precommit(1, 0, 0, Nil))
	m.Vote(precommit(1, 0, 1, Nil))
	m.Timeout(StepPrecommit, 1, 0)
	m.Proposal(Proposal{Height: 1, Round: 1, Value: vB, ValidRound: -1, From: 1})
	for _, o := range m.Drain() {
		if s, ok := o.(SendVote); ok && s.Vote.Value != Nil {
			t.Fatalf("sent %v while locked on vA", s.Vote)
		}
	}
}

func TestRestoreKeepsThePolkaOfTheLock(t *testing.T) {
	polka := []Vote{prevote(1, 0, 0, vA), prevote(1, 0, 1, vA), prevote(1, 0, 2, vA)}
	m := four(t, 1) // proposes round 1
	m.Restore(nil, append([]Vote{precommit(1, 0, 1, vA)}, polka...))
	m.Vote(precommit(1, 0, 0, Nil))
	m.Vote(precommit(1, 0, 2, Nil))
	m.Drain()
	m.Timeout(StepPrecommit, 1, 0)
	// Re-proposing its locked value, it can show the prevotes that others
	// sent before the restart.
	out := m.Drain()
	sp, ok := out[0].(SendProposal)
	if !ok || sp.Proposal.Value != vA || sp.Proposal.ValidRound != 0 {
		t.Fatalf("first output %#v, want a proposal of vA with valid round 0", out[0])
	}
	if diff := cmp.Diff(polka, sp.Polka); diff != "" {
		t.Fatalf("polka (-want +got):\n%s", diff)
	}
}

func TestRestoreTakesOwnProposal(t *testing.T) {
	m := four(t, 0)
	m.Restore([]Proposal{{Height: 1, Round: 0, Value: vA, ValidRound: -1, From: 0}}, nil)
	m.Wake()
	// It proposed already: no new value is asked for; it prevotes its own.
	expect(t, m, timer(StepPropose, 1, 0), SendVote{Vote: prevote(1, 0, 0, vA)})
}

func TestObserverDecidesWithoutSending(t *testing.T) {
	m := four(t, -1)
	m.Proposal(Proposal{Height: 1, Round: 0, Value: vA, ValidRound: -1, From: 0})
	expect(t, m, Validate{Height: 1, Round: 0, Value: vA})
	m.Learn(m.Height(), vA, true)
	for _, from := range []int{0, 1, 2} {
		m.Vote(prevote(1, 0, from, vA))
		m.Vote(precommit(1, 0, from, vA))
	}
	out := m.Drain()
	if len(out) != 1 || out[0].(Decision).Value != vA {
		t.Fatalf("outputs %v, want one decision", out)
	}
}

func TestWeightedQuorum(t *testing.T) {
	// Member 0 holds 3 of 6: with member 1 (weight 2) it is a quorum (5).
	m, err := New(Config{Weights: []uint64{3, 2, 1}, Threshold: 5, Self: 2}, 1)
	if err != nil {
		t.Fatal(err)
	}
	m.Proposal(Proposal{Height: 1, Round: 0, Value: vA, ValidRound: -1, From: 0})
	m.Learn(m.Height(), vA, true)
	m.Drain()
	m.Vote(precommit(1, 0, 0, vA))
	expect(t, m) // 3 of 5
	m.Vote(precommit(1, 0, 1, vA))
	out := m.Drain()
	if len(out) != 1 || out[0].(Decision).Value != vA {
		t.Fatalf("outputs %v, want the decision", out)
	}
}

func TestTimeoutsGrowAndAreCapped(t *testing.T) {
	d := DefaultTimeouts
	if got := d.after(StepPropose, 0); got != 500*time.Millisecond {
		t.Errorf("propose round 0: %v", got)
	}
	if got := d.after(StepPrevote, 4); got != 1250*time.Millisecond {
		t.Errorf("prevote round 4: %v", got)
	}
	if got := d.after(StepPrecommit, 1<<40); got != d.Max {
		t.Errorf("precommit round 2^40: %v, want the cap %v", got, d.Max)
	}
	custom := Timeouts{Propose: time.Second}.withDefaults()
	if custom.Propose != time.Second || custom.Prevote != DefaultTimeouts.Prevote {
		t.Errorf("defaults not filled: %+v", custom)
	}
}

func TestConfigIsChecked(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"no members", Config{Threshold: 1}},
		{"zero weight", Config{Weights: []uint64{1, 0}, Threshold: 1}},
		{"threshold at two thirds", Config{Weights: []uint64{1, 1, 1}, Threshold: 2}},
		{"threshold above the total", Config{Weights: []uint64{1, 1, 1}, Threshold: 4}},
		{"self out of range", Config{Weights: []uint64{1}, Threshold: 1, Self: 1}},
		{"negative window", Config{Weights: []uint64{1}, Threshold: 1, Window: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg, 1); !errors.Is(err, ErrConfig) {
				t.Fatalf("New: %v, want ErrConfig", err)
			}
		})
	}
	if _, err := New(Config{Weights: []uint64{1}, Threshold: 1}, 0); !errors.Is(err, ErrConfig) {
		t.Fatalf("height 0: %v, want ErrConfig", err)
	}
}
