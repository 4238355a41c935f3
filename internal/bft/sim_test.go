package bft

import (
	"container/heap"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/onvm-network/onvm/internal/id"
)

// The simulation runs committees of machines through seeded schedules of
// an unreliable network — delay, loss, duplication, reordering,
// partitions, crashes with restarts from the persisted messages, pauses —
// with up to f byzantine members (silent, equivocating, voting for invalid
// values, spamming far rounds, or "twins": two honest processes sharing
// one key). Until the global stabilisation time (GST) anything goes; after
// it every honest member is up and messages arrive within 20 ms. Each
// schedule checks:
//   - agreement: honest members decide the same value at every height, and
//     no two values are certified (precommits of a quorum) at one height
//     among all messages ever sent, faulty ones included;
//   - validity: every decided value is valid;
//   - no honest member signs two different messages for one (height,
//     round, step), across restarts, and no evidence names an honest one;
//   - termination: after GST every honest member decides every height;
//   - quiescence: with no work left, every honest machine falls asleep.
//
// A failure prints its seed; rerun it with -bft.seed.

var (
	flagSchedules = flag.Int("bft.schedules", 0, "simulated schedules (0: 3000, 300 with -short)")
	flagSeed      = flag.Uint64("bft.seed", 0, "run only this schedule seed")
)

func TestSimulation(t *testing.T) {
	n := *flagSchedules
	if n == 0 {
		n = 3000
		if testing.Short() {
			n = 300
		}
	}
	first := uint64(1)
	if *flagSeed != 0 {
		first, n = *flagSeed, 1
	}
	var decided, events int
	for seed := first; seed < first+uint64(n); seed++ {
		s := newSim(seed)
		if err := s.run(); err != nil {
			t.Fatalf("seed %d (%s): %v\nrerun: go test ./internal/bft -run TestSimulation -bft.seed=%d -v", seed, s.shape(), err, seed)
		}
		decided += s.heights
		events += s.steps
	}
	t.Logf("%d schedules, %d heights decided, %d events", n, decided, events)
}

// behaviour of a simulated member.
type behaviour uint8

const (
	honest      behaviour = iota
	silent                // never sends (crashed for good)
	equivocator           // honest, but sends a conflicting copy of each message to some members
	liar                  // proposes and votes for invalid values
	spammer               // honest, plus votes for far rounds and future heights
	twin                  // honest, but another process holds the same key
)

func (b behaviour) String() string {
	return [...]string{"honest", "silent", "equivocator", "liar", "spammer", "twin"}[b]
}

// process is one simulated process: a machine and the state the shell
// persists.
type process struct {
	member int
	kind   behaviour
	m      *Machine

	up          bool
	incarnation int           // bumped by a crash: older timers are void
	pausedUntil time.Duration // events arriving before are held
	work        bool          // a request reached it: it wakes its machine

	// persisted
	props   []Proposal
	votes   []Vote
	polkas  []Vote // persisted with its precommits
	decided map[uint64]Decision
}

type eventKind uint8

const (
	evDeliver eventKind = iota
	evTimer
	evVerdict
	evValue
	evTick
	evCrash
	evRestart
	evPause
	evRequest
)

type event struct {
	at          time.Duration
	seq         int
	kind        eventKind
	to          int // process index
	incarnation int
	msg         wire
	timer       SetTimer
	height      uint64
	round       int
	value       id.Hash
	dur         time.Duration
}

// wire is a message between processes.
type wire struct {
	from     int // process index
	proposal *Proposal
	polka    []Vote // the prevotes of the proposal's valid round
	vote     *Vote
	syncReq  uint64    // asks for the decisions from this height on
	decision *Decision // a decided height, for a member catching up
}

type queue []*event

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type sim struct {
	seed    uint64
	rng     *rand.Rand
	now     time.Duration
	q       queue
	seq     int
	procs   []*process
	weights []uint64
	thresh  uint64
	target  uint64 // heights to decide
	gst     time.Duration
	groups  []int // partition group by process before GST (nil: none)
	loss    float64
	dup     float64

	sentVotes map[voteKey]bool   // every vote any process sent (signatures are unforgeable)
	sentAt    map[uint64][]Vote  // the precommits sent, by height
	honestBy  map[[3]uint64]Vote // honest member's vote by (height, round<<8|step, member)
	heights   int
	steps     int
}

// voteKey is a vote without its signature.
type voteKey struct {
	step   Step
	height uint64
	round  int
	value  id.Hash
	from   int
}

func keyOf(v Vote) voteKey { return voteKey{v.Step, v.Height, v.Round, v.Value, v.From} }

// sent records a vote put on the network.
func (s *sim) sent(v Vote) {
	k := keyOf(v)
	if s.sentVotes[k] {
		return
	}
	s.sentVotes[k] = true
	if v.Step == StepPrecommit && v.Value != Nil {
		s.sentAt[v.Height] = append(s.sentAt[v.Height], v)
	}
}

// valid is the simulated verdict: honest values have an even first byte.
func valid(v id.Hash) bool { return v != Nil && v[0]%2 == 0 }

func (s *sim) value(parts ...uint64) id.Hash {
	var b []byte
	b = binary.BigEndian.AppendUint64(b, s.seed)
	for _, p := range parts {
		b = binary.BigEndian.AppendUint64(b, p)
	}
	v := id.Sum(b)
	v[0] &^= 1
	return v
}

func newSim(seed uint64) *sim {
	rng := rand.New(rand.NewPCG(seed, 0x0b17))
	n := 4
	if rng.IntN(3) == 0 {
		n = 7
	}
	f := (n - 1) / 3
	s := &sim{
		seed: seed, rng: rng, target: uint64(2 + rng.IntN(4)),
		gst:       time.Duration(rng.IntN(8000)) * time.Millisecond,
		loss:      rng.Float64() * 0.3,
		dup:       rng.Float64() * 0.2,
		sentVotes: make(map[voteKey]bool),
		sentAt:    make(map[uint64][]Vote),
		honestBy:  make(map[[3]uint64]Vote),
	}
	s.weights = make([]uint64, n)
	for i := range s.weights {
		s.weights[i] = 1
	}
	s.thresh = uint64(n*2/3 + 1)
	kinds := make([]behaviour, n)
	for range rng.IntN(f + 1) {
		kinds[rng.IntN(n)] = behaviour(1 + rng.IntN(5))
	}
	for i, k := range kinds {
		s.procs = append(s.procs, &process{member: i, kind: k, decided: make(map[uint64]Decision)})
		if k == twin {
			s.procs = append(s.procs, &process{member: i, kind: k, decided: make(map[uint64]Decision)})
		}
	}
	if rng.IntN(2) == 0 {
		s.groups = make([]int, len(s.procs))
		for i := range s.groups {
			s.groups[i] = rng.IntN(2)
		}
	}
	return s
}

func (s *sim) shape() string {
	var kinds []string
	for _, p := range s.procs {
		if p.kind != honest {
			kinds = append(kinds, fmt.Sprintf("%d:%s", p.member, p.kind))
		}
	}
	return fmt.Sprintf("n=%d heights=%d gst=%v loss=%.2f faulty=%v partitioned=%v", len(s.weights), s.target, s.gst, s.loss, kinds, s.groups != nil)
}

func (s *sim) at(after time.Duration, e *event) {
	e.at = s.now + after
	s.seq++
	e.seq = s.seq
	heap.Push(&s.q, e)
}

func (s *sim) run() error {
	for i, p := range s.procs {
		if err := s.start(i); err != nil {
			return err
		}
		if p.kind == silent {
			p.up = false
		}
		// Requests reach members at random times; some only after GST.
		s.at(time.Duration(s.rng.IntN(int(s.gst/time.Millisecond)+500))*time.Millisecond, &event{kind: evRequest, to: i})
		// Faults before GST.
		if p.kind != silent {
			for range s.rng.IntN(3) {
				at := time.Duration(s.rng.Int64N(int64(s.gst) + 1))
				if s.rng.IntN(2) == 0 {
					s.at(at, &event{kind: evCrash, to: i, dur: time.Duration(s.rng.IntN(3000)) * time.Millisecond})
				} else {
					s.at(at, &event{kind: evPause, to: i, dur: time.Duration(s.rng.IntN(3000)) * time.Millisecond})
				}
			}
		}
	}
	limit := s.gst + 120*time.Second
	for s.q.Len() > 0 {
		e := heap.Pop(&s.q).(*event)
		s.now = e.at
		s.steps++
		if s.steps > 3_000_000 {
			return fmt.Errorf("3,000,000 events by %v and not done: %s", s.now, s.progress())
		}
		if s.now > limit {
			return fmt.Errorf("not every honest member decided %d heights by GST+120s: %s", s.target, s.progress())
		}
		if err := s.dispatch(e); err != nil {
			return err
		}
		if s.done() {
			return s.quiescent()
		}
	}
	return fmt.Errorf("the schedule ran dry: %s", s.progress())
}

func (s *sim) progress() string {
	out := ""
	for i, p := range s.procs {
		h := uint64(0)
		if p.m != nil {
			h = p.m.Height()
		}
		out += fmt.Sprintf("[%d m%d %s up=%v h=%d", i, p.member, p.kind, p.up, h)
		if p.m != nil {
			lv, lr := p.m.Locked()
			out += fmt.Sprintf(" r=%d %s awake=%v busy=%v locked=%.4s@%d valid=%.4s@%d", p.m.Round(), p.m.Step(), p.m.Awake(), s.busy(p), lv, lr, p.m.validValue, p.m.validRound)
		}
		out += "]\n"
	}
	return out
}

func (s *sim) correct(p *process) bool { return p.kind == honest }

// busy reports whether p has a request for a height still to decide.
func (s *sim) busy(p *process) bool { return p.work && p.m.Height() <= s.target }

func (s *sim) done() bool {
	for _, p := range s.procs {
		if s.correct(p) && (!p.up || p.m.Height() <= s.target) {
			return false
		}
	}
	return true
}

// quiescent checks that, with no work left, every honest machine falls
// asleep once the faulty stop and the messages in flight are delivered.
func (s *sim) quiescent() error {
	for _, p := range s.procs {
		if !s.correct(p) {
			p.up = false
		}
	}
	deadline := s.now + 30*time.Second
	for s.q.Len() > 0 && s.now < deadline {
		e := heap.Pop(&s.q).(*event)
		s.now = e.at
		if err := s.dispatch(e); err != nil {
			return err
		}
		asleep := true
		for _, p := range s.procs {
			if s.correct(p) && p.m != nil && p.m.Awake() {
				asleep = false
			}
		}
		if asleep {
			s.heights += int(s.target)
			return nil
		}
	}
	return fmt.Errorf("honest machines still awake with no work: %s", s.progress())
}

func (s *sim) start(i int) error {
	p := s.procs[i]
	h := uint64(1)
	for p.decided[h].Value != Nil {
		h++
	}
	m, err := New(Config{Weights: s.weights, Threshold: s.thresh, Self: p.member}, h)
	if err != nil {
		return err
	}
	p.m, p.up = m, true
	s.at(time.Duration(s.rng.IntN(200))*time.Millisecond, &event{kind: evTick, to: i, incarnation: p.incarnation})
	var props []Proposal
	var votes []Vote
	for _, pr := range p.props {
		if pr.Height == h {
			props = append(props, pr)
		}
	}
	for _, v := range append(p.votes, p.polkas...) {
		if v.Height == h {
			votes = append(votes, v)
		}
	}
	m.Restore(props, votes)
	if s.busy(p) {
		m.Wake()
	}
	return s.handle(i)
}

func (s *sim) dispatch(e *event) error {
	p := s.procs[e.to]
	if e.kind == evRequest {
		p.work = true // the request waits in the pool (clients retry)
	}
	if !p.up && e.kind != evRestart {
		return nil
	}
	if (e.kind == evTimer || e.kind == evTick) && e.incarnation != p.incarnation {
		return nil
	}
	if s.now < p.pausedUntil && e.kind != evCrash {
		held := *e
		s.at(p.pausedUntil-s.now, &held)
		return nil
	}
	m := p.m
	switch e.kind {
	case evDeliver:
		s.receive(e.to, e.msg)
	case evTimer:
		m.Timeout(e.timer.Step, e.timer.Height, e.timer.Round)
		if !s.busy(p) && e.timer.Step == StepPrecommit {
			m.Sleep()
		}
	case evVerdict:
		m.Learn(e.height, e.value, valid(e.value) || p.kind == liar)
	case evValue:
		v := s.value(e.height, uint64(e.round), uint64(e.to))
		if p.kind == liar {
			v[0] |= 1
		}
		m.Propose(e.height, e.round, v)
	case evTick:
		if !s.busy(p) {
			m.Sleep() // nothing to do: no timers, no messages
		}
		s.resend(e.to)
		s.at(200*time.Millisecond, &event{kind: evTick, to: e.to, incarnation: p.incarnation})
	case evCrash:
		p.up = false
		p.incarnation++
		p.m = nil
		s.at(e.dur, &event{kind: evRestart, to: e.to})
		return nil
	case evRestart:
		if p.up {
			return nil
		}
		return s.start(e.to)
	case evPause:
		p.pausedUntil = s.now + e.dur
	case evRequest:
		if s.busy(p) {
			m.Wake()
		}
	}
	return s.handle(e.to)
}

// receive hands a message to process i's machine, answering requests for
// decided heights and asking for those it lacks.
func (s *sim) receive(i int, w wire) {
	p := s.procs[i]
	h := p.m.Height()
	switch {
	case w.syncReq != 0:
		for k := w.syncReq; k < h; k++ {
			d := p.decided[k]
			s.send(i, w.from, wire{decision: &d})
		}
	case w.decision != nil:
		if w.decision.Height == h && s.certificate(w.decision) {
			p.decided[h] = *w.decision
			s.record(p, *w.decision)
			p.m.AdvanceTo(h + 1)
			if s.busy(p) {
				p.m.Wake()
			}
		}
	case w.proposal != nil:
		s.lagging(i, w.from, w.proposal.Height, w.proposal.Round)
		for _, v := range w.polka {
			p.m.Vote(v)
		}
		p.m.Proposal(*w.proposal)
	case w.vote != nil:
		s.lagging(i, w.from, w.vote.Height, w.vote.Round)
		p.m.Vote(*w.vote)
	}
}

// lagging asks the sender of a message of a later height for the decisions
// this process lacks, tells a sender of an earlier height its decision, and
// sends a sender of an earlier round of the height its latest messages (so
// that it can skip to the round).
func (s *sim) lagging(i, from int, h uint64, r int) {
	m := s.procs[i].m
	own := m.Height()
	switch {
	case h > own:
		s.send(i, from, wire{syncReq: own})
	case h < own && s.procs[i].decided[h].Value != Nil:
		d := s.procs[i].decided[h]
		s.send(i, from, wire{decision: &d})
	case h == own && r < m.Round():
		s.behind(i, from, r)
	}
}

// certificate checks a decision learnt from a peer as a verifier of its
// aggregate signature would: precommits for its value, one per member,
// each really sent, holding the threshold.
func (s *sim) certificate(d *Decision) bool {
	seen := make(map[int]bool)
	var w uint64
	for _, v := range d.Precommits {
		if v.Step != StepPrecommit || v.Height != d.Height || v.Round != d.Round || v.Value != d.Value ||
			v.From < 0 || v.From >= len(s.weights) || seen[v.From] || !s.sentVotes[keyOf(v)] {
			return false
		}
		seen[v.From] = true
		w += s.weights[v.From]
	}
	return w >= s.thresh && valid(d.Value)
}

// handle carries out process i's outputs.
func (s *sim) handle(i int) error {
	p := s.procs[i]
	if p.m == nil {
		return nil
	}
	for _, o := range p.m.Drain() {
		switch o := o.(type) {
		case SendProposal:
			p.props = append(p.props, o.Proposal)
			s.broadcast(i, wire{proposal: &o.Proposal, polka: o.Polka})
			if p.kind == equivocator {
				other := o.Proposal
				other.Value = s.value(other.Height, uint64(other.Round), 1<<32)
				s.broadcastSome(i, wire{proposal: &other})
			}
		case SendVote:
			if err := s.sign(p, o.Vote); err != nil {
				return err
			}
			p.votes = append(p.votes, o.Vote)
			p.polkas = append(p.polkas, o.Polka...)
			v := o.Vote
			if p.kind == liar && v.Value != Nil {
				v.Value[0] |= 1
			}
			s.sent(v)
			s.broadcast(i, wire{vote: &v})
			switch p.kind {
			case equivocator:
				other := v
				other.Value = s.value(v.Height, uint64(v.Round), 1<<33)
				if v.Value != Nil && s.rng.IntN(2) == 0 {
					other.Value = Nil
				}
				s.sent(other)
				s.broadcastSome(i, wire{vote: &other})
			case spammer:
				far := v
				far.Round += DefaultWindow + 1 + s.rng.IntN(1000)
				far.Value = s.value(uint64(far.Round))
				s.sent(far)
				s.broadcast(i, wire{vote: &far})
				next := v
				next.Height++
				s.sent(next)
				s.broadcast(i, wire{vote: &next})
			}
		case NeedValue:
			s.at(time.Duration(s.rng.IntN(20))*time.Millisecond, &event{kind: evValue, to: i, height: o.Height, round: o.Round})
		case Validate:
			s.at(time.Duration(s.rng.IntN(10))*time.Millisecond, &event{kind: evVerdict, to: i, height: o.Height, value: o.Value})
		case MissingValue:
			for j := range s.procs {
				if j != i {
					s.send(i, j, wire{syncReq: o.Height})
				}
			}
		case SetTimer:
			s.at(o.After, &event{kind: evTimer, to: i, incarnation: p.incarnation, timer: o})
		case Decision:
			if !valid(o.Value) && s.correct(p) {
				return fmt.Errorf("member %d decided the invalid value %.8s at height %d", p.member, o.Value, o.Height)
			}
			p.decided[o.Height] = o
			if err := s.record(p, o); err != nil {
				return err
			}
			if s.busy(p) {
				p.m.Wake()
			}
		case Equivocation:
			if k := s.kindOf(o.First.From); k == honest {
				return fmt.Errorf("evidence against honest member %d: %v and %v", o.First.From, o.First, o.Second)
			}
		}
	}
	return nil
}

func (s *sim) kindOf(member int) behaviour {
	for _, p := range s.procs {
		if p.member == member {
			return p.kind
		}
	}
	return honest
}

// sign checks that an honest member never signs two different votes for
// one (height, round, step), across restarts.
func (s *sim) sign(p *process, v Vote) error {
	if !s.correct(p) {
		return nil
	}
	k := [3]uint64{v.Height, uint64(v.Round)<<8 | uint64(v.Step), uint64(p.member)}
	if prev, ok := s.honestBy[k]; ok && prev.Value != v.Value {
		return fmt.Errorf("honest member %d signed %v and %v", p.member, prev, v)
	}
	s.honestBy[k] = v
	return nil
}

// record checks a decision against those of other honest members and
// against every certificate that the messages sent could form.
func (s *sim) record(p *process, d Decision) error {
	if !s.correct(p) {
		return nil
	}
	for _, q := range s.procs {
		if o, ok := q.decided[d.Height]; ok && s.correct(q) && o.Value != d.Value {
			return fmt.Errorf("height %d decided as %.8s by member %d and %.8s by member %d", d.Height, d.Value, p.member, o.Value, q.member)
		}
	}
	return s.oneCertificate(d.Height)
}

// oneCertificate checks that the precommits ever sent at height h certify
// at most one value.
func (s *sim) oneCertificate(h uint64) error {
	type rv struct {
		round int
		value id.Hash
	}
	weight := make(map[rv]uint64)
	var certified []id.Hash
	for _, v := range s.sentAt[h] {
		k := rv{v.Round, v.Value}
		weight[k] += s.weights[v.From]
		if weight[k] >= s.thresh && !contains(certified, v.Value) {
			certified = append(certified, v.Value)
		}
	}
	if len(certified) > 1 {
		return fmt.Errorf("height %d has %d certified values", h, len(certified))
	}
	return nil
}

func contains(vs []id.Hash, v id.Hash) bool {
	for _, w := range vs {
		if w == v {
			return true
		}
	}
	return false
}

// resend rebroadcasts process i's messages of its height's last two
// rounds, as the shell does while its machine is awake.
func (s *sim) resend(i int) {
	p := s.procs[i]
	if p.m == nil || !p.m.Awake() {
		return
	}
	s.sendRounds(i, -1, p.m.Round()-1)
}

// sendRounds sends process i's messages of its height from round first on,
// to process to (or to all when to < 0).
func (s *sim) sendRounds(i, to, first int) {
	p := s.procs[i]
	h := p.m.Height()
	send := func(w wire) {
		if to < 0 {
			s.broadcast(i, w)
		} else {
			s.send(i, to, w)
		}
	}
	for _, pr := range p.props {
		if pr.Height == h && pr.Round >= first {
			send(wire{proposal: &pr, polka: p.m.Polka(pr)})
		}
	}
	for _, v := range p.votes {
		// Prevotes for values are sent again whatever their round: a polka
		// of an early round may be what unlocks the height.
		if v.Height == h && (v.Round >= first || (to < 0 && v.Step == StepPrevote && v.Value != Nil)) {
			if p.kind == liar && v.Value != Nil {
				v.Value[0] |= 1
			}
			send(wire{vote: &v})
		}
	}
}

// behind answers a message of round r of its height from a process that
// is rounds behind: it sends its messages of the last round it sent any in,
// if that is later than r, so that the other can skip ahead — even when
// asleep. (Its current round may have none: it may have fallen asleep on
// entering it. Answering only with later rounds ends the exchange.)
func (s *sim) behind(i, to, r int) {
	p := s.procs[i]
	h, last := p.m.Height(), -1
	for _, pr := range p.props {
		if pr.Height == h {
			last = max(last, pr.Round)
		}
	}
	for _, v := range p.votes {
		if v.Height == h {
			last = max(last, v.Round)
		}
	}
	if last > r {
		s.sendRounds(i, to, last)
	}
}

func (s *sim) broadcast(from int, w wire) {
	for j := range s.procs {
		if j != from {
			s.send(from, j, w)
		}
	}
}

// broadcastSome sends w to a random half of the other processes.
func (s *sim) broadcastSome(from int, w wire) {
	for j := range s.procs {
		if j != from && s.rng.IntN(2) == 0 {
			s.send(from, j, w)
		}
	}
}

// send puts a message on the simulated network: before GST it may be
// lost, cut by the partition, duplicated and delayed up to 2 s; after GST
// it arrives within 20 ms.
func (s *sim) send(from, to int, w wire) {
	if s.procs[from].kind == silent {
		return
	}
	w.from = from
	delay := time.Duration(1+s.rng.IntN(20)) * time.Millisecond
	if s.now < s.gst {
		if s.rng.Float64() < s.loss || (s.groups != nil && s.groups[from] != s.groups[to]) {
			return
		}
		delay = time.Duration(1+s.rng.IntN(2000)) * time.Millisecond
		if s.rng.Float64() < s.dup {
			s.at(time.Duration(1+s.rng.IntN(2000))*time.Millisecond, &event{kind: evDeliver, to: to, msg: w})
		}
	}
	s.at(delay, &event{kind: evDeliver, to: to, msg: w})
}
