package bft

import (
	"fmt"
	"slices"

	"github.com/onvm-network/onvm/internal/id"
)

// Machine is one member's instance of the algorithm for one committee. It
// is not safe for concurrent use: the shell serialises calls.
//
// The comments name the lines of Algorithm 1 of arXiv 1807.04938 each rule
// implements.
type Machine struct {
	cfg      Config
	timeouts Timeouts
	window   int
	skip     uint64 // weight that must include an honest member: total − threshold + 1

	height uint64
	round  int
	step   Step
	awake  bool

	lockedValue id.Hash
	lockedRound int
	validValue  id.Hash
	validRound  int

	rounds   map[int]*round
	order    []int            // the keys of rounds, ascending
	highest  []int            // by member: the highest round of its messages at this height (−1: none)
	skipping bool             // highest changed since skipTo last looked
	valid    map[id.Hash]bool // the shell's verdicts; absent: not known yet
	asked    map[id.Hash]bool // Validate emitted
	future   []message        // messages of height+1
	out      []Output
}

// message is a proposal or a vote kept for a later height.
type message struct {
	proposal *Proposal
	vote     *Vote
}

// New returns a machine at round 0 of height (≥ 1), asleep.
func New(cfg Config, height uint64) (*Machine, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if height == 0 {
		return nil, fmt.Errorf("%w: height 0", ErrConfig)
	}
	var total uint64
	for _, w := range cfg.Weights {
		total += w
	}
	m := &Machine{cfg: cfg, timeouts: cfg.Timeouts.withDefaults(), window: cfg.Window, skip: total - cfg.Threshold + 1}
	if m.window == 0 {
		m.window = DefaultWindow
	}
	m.enterHeight(height)
	return m, nil
}

// Height returns the height being decided.
func (m *Machine) Height() uint64 { return m.height }

// Round returns the current round.
func (m *Machine) Round() int { return m.round }

// Step returns the current step.
func (m *Machine) Step() Step { return m.step }

// Awake reports whether the machine is working on its height (it has timers
// or a proposal outstanding) rather than asleep.
func (m *Machine) Awake() bool { return m.awake }

// Locked returns the value this member is locked on and the round it
// locked in (−1: none).
func (m *Machine) Locked() (id.Hash, int) { return m.lockedValue, m.lockedRound }

// Proposer returns the member that proposes in round r of the current
// height.
func (m *Machine) Proposer(r int) int { return m.proposer(m.height, r) }

// Polka returns the prevotes this machine holds for p's value in p's valid
// round (none when it is −1): what a member needs besides p to accept it.
// The shell sends them with p when it sends p again.
func (m *Machine) Polka(p Proposal) []Vote {
	if p.Height != m.height || p.ValidRound < 0 {
		return nil
	}
	rs := m.rounds[p.ValidRound]
	if rs == nil {
		return nil
	}
	return rs.prevotes.of(p.Value)
}

// Drain returns the outputs produced since the last call, in order.
func (m *Machine) Drain() []Output {
	out := m.out
	m.out = nil
	return out
}

// Wake tells an asleep machine that there is work: it takes the actions of
// its step it had deferred — proposing, or setting the step's timer.
func (m *Machine) Wake() {
	if m.awake {
		return
	}
	m.awake = true
	m.act()
	m.progress()
}

// Sleep stops the machine acting on its height — no proposal, no timer —
// until Wake or a message of the height. The shell calls it when it has
// nothing to do and the round ended without a decision, so that a program
// nobody uses costs nothing even if a faulty member keeps poking it.
// Sleeping never endangers safety: it only stops the machine's own timers.
// Timers and value requests produced but not yet drained are dropped.
func (m *Machine) Sleep() {
	m.awake = false
	out := m.out[:0]
	for _, o := range m.out {
		switch o.(type) {
		case SetTimer, NeedValue:
		default:
			out = append(out, o)
		}
	}
	m.out = out
}

// Propose hands in the value asked for by NeedValue. It is ignored unless
// the machine is still in the propose step of that round.
func (m *Machine) Propose(h uint64, r int, value id.Hash) {
	if h != m.height || r != m.round || m.step != StepPropose || m.cfg.Self < 0 ||
		m.proposer(h, r) != m.cfg.Self || m.roundAt(r).proposal != nil || value == Nil {
		return
	}
	m.sendProposal(value, -1)
	m.progress()
}

// Proposal hands in a proposal from another member. The machine asks the
// shell to Validate its value unless it knows the verdict.
func (m *Machine) Proposal(p Proposal) {
	if p.From < 0 || p.From >= len(m.cfg.Weights) || p.Round < 0 || p.ValidRound < -1 ||
		p.ValidRound >= p.Round || p.Value == Nil || p.From != m.proposer(p.Height, p.Round) {
		return
	}
	if !m.arrived(p.Height, p.From, p.Round, message{proposal: &p}) {
		return
	}
	if p.Round <= m.round+m.window {
		rs := m.roundAt(p.Round)
		if rs.proposal == nil {
			rs.proposal = &p
		}
		m.validate(p.Round, p.Value)
	}
	m.touched(p.Round)
}

// Vote hands in a vote from another member (this member's own, after a
// restart, go through Restore).
func (m *Machine) Vote(v Vote) {
	if !m.wellFormed(v) {
		return
	}
	if !m.arrived(v.Height, v.From, v.Round, message{vote: &v}) {
		return
	}
	if v.Round <= m.round+m.window {
		rs := m.roundAt(v.Round)
		if prev := rs.tally(v.Step).add(v, m.cfg.Weights[v.From]); prev != nil && !rs.equivocated[v.From] {
			rs.equivocated[v.From] = true
			m.emit(Equivocation{First: *prev, Second: v})
		}
	}
	m.touched(v.Round)
}

// Learn hands in the shell's verdict on a value at height h: the answer to
// Validate, or a value's content learnt after MissingValue. A verdict for
// another height is ignored.
func (m *Machine) Learn(h uint64, value id.Hash, valid bool) {
	if h != m.height || value == Nil {
		return
	}
	m.learn(value, valid)
	m.progress()
}

// Timeout reports that a timer set with SetTimer has fired (lines 57–65).
func (m *Machine) Timeout(s Step, h uint64, r int) {
	if h != m.height || r != m.round || !m.awake {
		return
	}
	switch {
	case s == StepPropose && m.step == StepPropose:
		m.sendVote(StepPrevote, Nil)
		m.step = StepPrevote
	case s == StepPrevote && m.step == StepPrevote:
		m.sendVote(StepPrecommit, Nil)
		m.step = StepPrecommit
	case s == StepPrecommit:
		m.startRound(r + 1)
	}
	m.progress()
}

// AdvanceTo moves the machine to height h, asleep, once the shell has
// applied the decisions below h learnt from elsewhere (catching up). Lower
// heights are ignored.
func (m *Machine) AdvanceTo(h uint64) {
	if h <= m.height {
		return
	}
	next := m.height + 1
	m.enterHeight(h)
	if h == next {
		m.replayFuture()
	} else {
		m.future = nil
	}
}

// Restore hands back, after a restart, the messages this member sent at the
// current height, as persisted before they were sent, with the polkas
// persisted with its precommits (other members' prevotes). The machine
// resumes in the round of its latest message, past the steps it had voted
// in, locked on the value of its latest non-nil precommit, so it never
// sends a message that contradicts one it sent before the restart. It
// stays asleep.
func (m *Machine) Restore(proposals []Proposal, votes []Vote) {
	self := m.cfg.Self
	if self < 0 {
		return
	}
	r, step := m.round, m.step
	for _, p := range proposals {
		if p.Height != m.height || p.From != self || p.Round < 0 {
			continue
		}
		rs := m.roundAt(p.Round)
		if rs.proposal == nil {
			rs.proposal = &p
		}
		m.learn(p.Value, true)
		if p.Round > r {
			r, step = p.Round, StepPropose
		}
	}
	for _, v := range votes {
		if v.Height != m.height || !m.wellFormed(v) {
			continue
		}
		rs := m.roundAt(v.Round)
		rs.tally(v.Step).add(v, m.cfg.Weights[v.From])
		if v.From != self {
			continue // a polka persisted with a precommit
		}
		if v.Round > r || (v.Round == r && v.Step > step) {
			r, step = v.Round, v.Step
		}
		if v.Step == StepPrecommit && v.Value != Nil && v.Round > m.lockedRound {
			m.lockedValue, m.lockedRound = v.Value, v.Round
			m.validValue, m.validRound = v.Value, v.Round
			m.learn(v.Value, true)
		}
	}
	m.round, m.step = r, step
	m.noteRound(self, r)
}

// enterHeight resets the per-height state and starts round 0, asleep.
func (m *Machine) enterHeight(h uint64) {
	n := len(m.cfg.Weights)
	m.height = h
	m.lockedValue, m.lockedRound = Nil, -1
	m.validValue, m.validRound = Nil, -1
	m.rounds, m.order = make(map[int]*round), nil
	m.highest = make([]int, n)
	for i := range m.highest {
		m.highest[i] = -1
	}
	m.valid, m.asked = make(map[id.Hash]bool), make(map[id.Hash]bool)
	m.skipping = false
	m.awake = false
	m.round, m.step = 0, StepPropose
}

// startRound is StartRound (lines 11–21); an asleep machine defers its
// actions until Wake.
func (m *Machine) startRound(r int) {
	m.round, m.step = r, StepPropose
	m.noteRound(m.cfg.Self, r)
	if m.awake {
		m.act()
	}
}

// act takes the actions of entering the current step: the proposer
// proposes its valid value or asks for one; every member sets the step's
// timer. The proposer sets the propose timer too, so that a value that
// takes too long to build costs the round rather than the height.
func (m *Machine) act() {
	if m.cfg.Self < 0 {
		return
	}
	rs := m.roundAt(m.round)
	if m.step == StepPropose && m.proposer(m.height, m.round) == m.cfg.Self && rs.proposal == nil {
		if m.validValue != Nil {
			m.sendProposal(m.validValue, m.validRound)
		} else {
			m.emit(NeedValue{Height: m.height, Round: m.round})
		}
	}
	m.emit(SetTimer{Step: m.step, Height: m.height, Round: m.round, After: m.timeouts.after(m.step, m.round)})
}

// touched applies the rules after a message of round r arrived. A message
// of the current round or a later one wakes the machine: another member is
// working on the height. One of an earlier round does not, or two members
// with nothing to do would keep waking each other with the nil votes of
// rounds they have left.
func (m *Machine) touched(r int) {
	if !m.awake && r >= m.round {
		m.Wake()
		return
	}
	m.progress()
}

// progress applies the rules until none is enabled.
func (m *Machine) progress() {
	for m.rule() {
	}
}

// rule applies the first enabled rule and reports whether one was.
func (m *Machine) rule() bool {
	if m.decide() {
		return true
	}
	if r := m.skipTo(); r > m.round { // line 55
		m.startRound(r)
		return true
	}
	if m.cfg.Self < 0 || !m.awake {
		return false
	}
	rs := m.roundAt(m.round)
	p := rs.proposal
	switch m.step {
	case StepPropose:
		if p == nil {
			return false
		}
		valid, known := m.valid[p.Value]
		if !known {
			return false // waiting for the shell's verdict, or the propose timeout
		}
		if p.ValidRound == -1 { // line 22
			m.prevote(valid && (m.lockedRound == -1 || m.lockedValue == p.Value), p.Value)
			return true
		}
		if m.roundAt(p.ValidRound).prevotes.weightOf(p.Value) >= m.cfg.Threshold { // line 28
			m.prevote(valid && (m.lockedRound <= p.ValidRound || m.lockedValue == p.Value), p.Value)
			return true
		}
	case StepPrevote:
		if rs.prevotes.weightOf(Nil) >= m.cfg.Threshold { // line 44
			m.sendVote(StepPrecommit, Nil)
			m.step = StepPrecommit
			return true
		}
	}
	if m.step >= StepPrevote && !rs.polka { // line 36
		if v, ok := m.polka(rs); ok {
			rs.polka = true
			if m.step == StepPrevote {
				m.lockedValue, m.lockedRound = v, m.round
				m.sendVote(StepPrecommit, v, rs.prevotes.of(v)...)
				m.step = StepPrecommit
			}
			m.validValue, m.validRound = v, m.round
			return true
		}
	}
	if m.step == StepPrevote && !rs.prevoteTimer && rs.prevotes.weight >= m.cfg.Threshold { // line 34
		rs.prevoteTimer = true
		m.emit(SetTimer{Step: StepPrevote, Height: m.height, Round: m.round, After: m.timeouts.after(StepPrevote, m.round)})
		return true
	}
	if !rs.precommitTimer && rs.precommits.weight >= m.cfg.Threshold { // line 47
		rs.precommitTimer = true
		m.emit(SetTimer{Step: StepPrecommit, Height: m.height, Round: m.round, After: m.timeouts.after(StepPrecommit, m.round)})
		return true
	}
	return false
}

// polka returns a valid value with prevotes of a quorum in round rs. The
// algorithm asks for the round's proposal; any value whose content the
// shell has vouched for serves the same purpose (the machine must be able
// to hand the decided value on) and survives an equivocating proposer.
func (m *Machine) polka(rs *round) (id.Hash, bool) {
	for _, v := range rs.prevotes.values { // in order of arrival: deterministic
		if v != Nil && rs.prevotes.weightOf(v) >= m.cfg.Threshold && m.valid[v] {
			return v, true
		}
	}
	return Nil, false
}

// decide is line 49: precommits of a quorum for a value in any round of
// the height decide it, once its content is known to be valid. A certified
// value whose content is unknown is reported once as MissingValue.
func (m *Machine) decide() bool {
	for _, r := range m.order {
		rs := m.rounds[r]
		for _, v := range rs.precommits.values { // in order of arrival: deterministic
			if v == Nil || rs.precommits.weightOf(v) < m.cfg.Threshold {
				continue
			}
			if !m.valid[v] {
				if m.asked[v] {
					continue // the shell's verdict is on its way
				}
				if rs.missing == nil {
					rs.missing = make(map[id.Hash]bool)
				}
				if !rs.missing[v] {
					rs.missing[v] = true
					m.emit(MissingValue{Height: m.height, Round: r, Value: v})
				}
				continue
			}
			m.emit(Decision{Height: m.height, Round: r, Value: v, Precommits: rs.precommits.of(v)})
			m.enterHeight(m.height + 1)
			m.replayFuture()
			return true
		}
	}
	return false
}

// skipTo returns the highest round r such that members holding more than
// the weight the faulty may hold sent messages of round r or above: at
// least one honest member is there (line 55).
func (m *Machine) skipTo() int {
	if !m.skipping {
		return m.round
	}
	m.skipping = false
	best := m.round
	for _, r := range m.highest {
		if r <= best {
			continue
		}
		var w uint64
		for i, s := range m.highest {
			if s >= r {
				w += m.cfg.Weights[i]
			}
		}
		if w >= m.skip {
			best = r
		}
	}
	return best
}

func (m *Machine) prevote(ok bool, value id.Hash) {
	if !ok {
		value = Nil
	}
	m.sendVote(StepPrevote, value)
	m.step = StepPrevote
}

func (m *Machine) sendProposal(value id.Hash, validRound int) {
	p := Proposal{Height: m.height, Round: m.round, Value: value, ValidRound: validRound, From: m.cfg.Self}
	m.emit(SendProposal{Proposal: p, Polka: m.Polka(p)})
	m.roundAt(m.round).proposal = &p
	m.learn(value, true)
}

func (m *Machine) sendVote(s Step, value id.Hash, polka ...Vote) {
	v := Vote{Step: s, Height: m.height, Round: m.round, Value: value, From: m.cfg.Self}
	m.emit(SendVote{Vote: v, Polka: polka})
	m.roundAt(m.round).tally(s).add(v, m.cfg.Weights[m.cfg.Self])
}

func (m *Machine) learn(value id.Hash, valid bool) {
	if valid {
		m.valid[value] = true
	} else if _, ok := m.valid[value]; !ok {
		m.valid[value] = false
	}
}

// validate asks the shell for its verdict on value unless it is known or
// asked.
func (m *Machine) validate(r int, value id.Hash) {
	if _, ok := m.valid[value]; ok || m.asked[value] {
		return
	}
	m.asked[value] = true
	m.emit(Validate{Height: m.height, Round: r, Value: value})
}

func (m *Machine) noteRound(member, r int) {
	if member >= 0 && r > m.highest[member] {
		m.highest[member] = r
		m.skipping = true
	}
}

func (m *Machine) roundAt(r int) *round {
	rs := m.rounds[r]
	if rs == nil {
		rs = newRound(len(m.cfg.Weights))
		m.rounds[r] = rs
		i, _ := slices.BinarySearch(m.order, r)
		m.order = slices.Insert(m.order, i, r)
	}
	return rs
}

func (m *Machine) proposer(h uint64, r int) int {
	if m.cfg.Proposer != nil {
		return m.cfg.Proposer(h, r)
	}
	n := uint64(len(m.cfg.Weights))
	return int((h - 1 + uint64(r)) % n)
}

// wellFormed reports whether v names a member, a round and a voting step.
func (m *Machine) wellFormed(v Vote) bool {
	return v.From >= 0 && v.From < len(m.cfg.Weights) && v.Round >= 0 && (v.Step == StepPrevote || v.Step == StepPrecommit)
}

// arrived takes note of a message of height h from member from in round
// r and reports whether it is of the current height; one of the next
// height is kept for it, one of any other dropped.
func (m *Machine) arrived(h uint64, from, r int, msg message) bool {
	switch {
	case h == m.height+1:
		m.keep(msg)
		return false
	case h != m.height:
		return false
	}
	m.noteRound(from, r)
	return true
}

func (m *Machine) keep(msg message) {
	if len(m.future) < maxFuture {
		m.future = append(m.future, msg)
	}
}

// replayFuture hands in the messages kept for the height just entered.
func (m *Machine) replayFuture() {
	msgs := m.future
	m.future = nil
	for _, msg := range msgs {
		if msg.proposal != nil {
			m.Proposal(*msg.proposal)
		} else {
			m.Vote(*msg.vote)
		}
	}
}

func (m *Machine) emit(o Output) { m.out = append(m.out, o) }
