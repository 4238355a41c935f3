package committee

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/bft"
	"github.com/onvm-network/onvm/internal/bls"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
)

// App is the application the committee agrees for: for ONVM, the chain
// engine. Its calls for one program are serialised, except Propose and
// Validate, which may run beside other calls of the same program.
type App interface {
	// Committee returns p's committee and the height to decide next (the
	// last height applied + 1).
	Committee(p id.Program) (c *consensus.Committee, next uint64, err error)
	// Pending reports whether requests for p are waiting to be proposed.
	Pending(p id.Program) bool
	// Propose builds the value to propose at height h of p — executes
	// pending requests on top of h−1 — and returns its id and content; ok
	// false when nothing is pending.
	Propose(ctx context.Context, p id.Program, h uint64) (value id.Hash, content []byte, ok bool, err error)
	// ValueOf returns the value a content stands for (for ONVM, the batch
	// root of the receipts it carries), without executing anything: a
	// content that does not bind to the value it came with is refused
	// before it is kept, so that a faulty member cannot pair an honest
	// value with a wrong content and get it judged invalid.
	ValueOf(content []byte) (id.Hash, error)
	// Validate reports whether content, proposed at height h of p, is
	// valid and is the value named (re-executing it gives the same
	// receipts).
	Validate(ctx context.Context, p id.Program, h uint64, value id.Hash, content []byte) (bool, error)
	// Commit applies the decided value of height h of p with its
	// certificate. It is called once per height, in order.
	Commit(p id.Program, h uint64, content []byte, cert *consensus.Certificate) error
	// Decided returns the content and certificate of an applied height,
	// for a member catching up.
	Decided(p id.Program, h uint64) (content []byte, cert *consensus.Certificate, ok bool)
	// Deliver takes a pending call another member submitted; an error
	// means the call was malformed.
	Deliver(p id.Program, call []byte) error
}

// Transport sends a message to a member. It must not block: a message it
// cannot send now is dropped (the shell sends again while it matters).
type Transport interface {
	Send(to id.Node, p id.Program, msg []byte)
}

// Config configures a Shell.
type Config struct {
	DB        *pebble.DB     // the node's database: signed messages and evidence under c/
	Self      id.Node        // this node
	Key       *bls.SecretKey // this node's BLS key, the one its committees record
	App       App
	Transport Transport
	// Timeouts are the round timeouts (zero fields: bft.DefaultTimeouts).
	Timeouts bft.Timeouts
	// Resend is how often an awake instance sends its latest messages
	// again; 0 means 500ms.
	Resend time.Duration
	Log    *slog.Logger
}

// ErrClosed is returned after Close.
var ErrClosed = errors.New("committee: closed")

// Shell runs the agreement of every committee this node sits on.
type Shell struct {
	cfg    Config
	store  store
	timers *timers
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool

	mu   sync.Mutex
	inst map[id.Program]*instance
}

// New starts a shell.
func New(cfg Config) *Shell {
	if cfg.Resend <= 0 {
		cfg.Resend = 500 * time.Millisecond
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Shell{cfg: cfg, store: store{cfg.DB}, timers: newTimers(), ctx: ctx, cancel: cancel, inst: make(map[id.Program]*instance)}
	s.wg.Go(s.run)
	return s
}

// Close stops the shell and waits for its goroutines. It is idempotent.
func (s *Shell) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.cancel()
	s.wg.Wait()
	return nil
}

// Wake tells the shell that requests for p are pending: its instance
// wakes and, when this member leads the round, proposes.
func (s *Shell) Wake(p id.Program) error {
	in, err := s.instance(p)
	if err != nil {
		return err
	}
	// The application may have applied heights another way (the DAG)
	// while the instance slept: start from its height, not the old one.
	if _, next, err := s.cfg.App.Committee(p); err == nil && next > in.height() {
		s.drop(p)
		if in, err = s.instance(p); err != nil {
			return err
		}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.m.Wake()
	s.process(in)
	return nil
}

// Submit hands a call this member took from a client to p's other
// members, so that whichever leads a round can propose it.
func (s *Shell) Submit(p id.Program, call []byte) {
	in, err := s.instance(p)
	if err != nil {
		return
	}
	s.broadcast(in, &Message{Call: call})
}

// Status is what the shell knows of a program's agreement.
type Status struct {
	Height uint64
	Round  int
	Step   bft.Step
	Leader id.Node // of the current round
	Awake  bool
}

// Status returns p's agreement status, if this node has an instance of it.
func (s *Shell) Status(p id.Program) (Status, bool) {
	s.mu.Lock()
	in := s.inst[p]
	s.mu.Unlock()
	if in == nil {
		return Status{}, false
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return Status{
		Height: in.m.Height(), Round: in.m.Round(), Step: in.m.Step(),
		Leader: in.c.Members[in.m.Proposer(in.m.Round())].Node, Awake: in.m.Awake(),
	}, true
}

// Evidence returns up to limit pieces of equivocation evidence this node
// has seen.
func (s *Shell) Evidence(limit int) ([]consensus.Evidence, error) { return s.store.evidence(limit) }

// instance returns p's instance, creating it from the application's
// committee and next height and the messages this member signed at that
// height before a restart.
func (s *Shell) instance(p id.Program) (*instance, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if in := s.inst[p]; in != nil {
		return in, nil
	}
	c, next, err := s.cfg.App.Committee(p)
	if err != nil {
		return nil, err
	}
	in, err := s.open(p, c, next)
	if err != nil {
		return nil, err
	}
	s.inst[p] = in
	return in, nil
}

func (s *Shell) open(p id.Program, c *consensus.Committee, next uint64) (*instance, error) {
	weights := make([]uint64, len(c.Members))
	for i, m := range c.Members {
		weights[i] = m.Weight
	}
	self := c.Index(s.cfg.Self)
	if self >= 0 && c.Members[self].BLSKey != s.cfg.Key.PublicKey() {
		self = -1 // the committee records another key for this node: follow only
	}
	m, err := bft.New(bft.Config{Weights: weights, Threshold: c.Threshold, Self: self, Timeouts: s.cfg.Timeouts}, next)
	if err != nil {
		return nil, fmt.Errorf("committee of %s: %w", p, err)
	}
	in := &instance{p: p, c: c, self: self, m: m}
	in.reset()
	props, ballots, polkas, err := s.store.height(p, c.Epoch, next)
	if err != nil {
		return nil, err
	}
	var bp []bft.Proposal
	var bv []bft.Vote
	for _, sp := range props {
		bp = append(bp, fromProposal(&sp))
		in.own[ownKey{int(sp.Proposal.Round), 1}] = ownMsg{proposal: &sp}
	}
	for i := range ballots {
		sb := ballots[i]
		bv = append(bv, fromBallot(&sb))
		in.own[ownKey{int(sb.Ballot.Round), uint8(sb.Ballot.Step)}] = ownMsg{ballot: &sb}
	}
	for i := range polkas {
		bv = append(bv, fromBallot(&polkas[i]))
	}
	m.Restore(bp, bv)
	return in, nil
}

// drop forgets p's instance (its next use opens it again from storage).
func (s *Shell) drop(p id.Program) {
	s.mu.Lock()
	delete(s.inst, p)
	s.mu.Unlock()
}

// run serves the timers until Close.
func (s *Shell) run() {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		due, wait := s.timers.due(time.Now())
		for _, tm := range due {
			s.fire(tm)
		}
		if len(due) > 0 {
			continue
		}
		if wait < 0 {
			wait = time.Hour
		}
		t.Reset(wait)
		select {
		case <-s.ctx.Done():
			return
		case <-s.timers.kick:
		case <-t.C:
		}
	}
}

// fire handles a due timer.
func (s *Shell) fire(tm timer) {
	s.mu.Lock()
	in := s.inst[tm.program]
	s.mu.Unlock()
	if in == nil {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if tm.step == 0 {
		in.ticking = false
		if !in.m.Awake() {
			return
		}
		if !in.touched && !s.cfg.App.Pending(in.p) {
			in.m.Sleep() // nobody works on the height: no timers, no messages
			return
		}
		in.touched = false
		s.resend(in, -1)
	} else {
		in.m.Timeout(tm.step, tm.height, tm.round)
	}
	s.process(in)
}
