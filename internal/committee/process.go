package committee

import (
	"github.com/onvm-network/onvm/internal/bft"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
)

// process carries out the machine's outputs. in.mu is held.
func (s *Shell) process(in *instance) {
	for {
		out := in.m.Drain()
		if len(out) == 0 {
			break
		}
		for _, o := range out {
			s.output(in, o)
		}
	}
	if in.m.Awake() && !in.ticking {
		in.ticking = true
		s.timers.add(timer{at: timeNow().Add(s.cfg.Resend), program: in.p})
	}
}

func (s *Shell) output(in *instance, o bft.Output) {
	log := s.cfg.Log.With("program", in.p.String())
	switch o := o.(type) {
	case bft.SendProposal:
		p := consensus.Proposal{
			Program: in.p, Epoch: in.c.Epoch, Height: o.Proposal.Height, Round: uint32(o.Proposal.Round),
			ValidRound: int64(o.Proposal.ValidRound), Value: o.Proposal.Value,
		}
		sp, err := s.store.signProposal(p, func() consensus.SignedProposal {
			return consensus.SignProposal(s.cfg.Key, uint32(in.self), p)
		})
		if err != nil {
			log.Error("proposal not signed", "height", p.Height, "err", err)
			return
		}
		in.own[ownKey{int(p.Round), 1}] = ownMsg{proposal: &sp}
		s.broadcast(in, &Message{Proposal: &sp, Polka: in.signedAll(o.Polka), Content: in.content[p.Value]})
	case bft.SendVote:
		b := in.ballot(o.Vote)
		polka := in.signedAll(o.Polka)
		sb, err := s.store.signBallot(b, func() consensus.SignedBallot {
			return consensus.SignBallot(s.cfg.Key, uint32(in.self), b)
		}, polka)
		if err != nil {
			log.Error("ballot not signed", "height", b.Height, "err", err)
			return
		}
		in.own[ownKey{int(b.Round), uint8(b.Step)}] = ownMsg{ballot: &sb, polka: polka}
		s.broadcast(in, &Message{Ballot: &sb})
	case bft.NeedValue:
		s.propose(in, o)
	case bft.Validate:
		s.validate(in, o.Height, o.Value)
	case bft.SetTimer:
		s.timers.add(timer{at: timeNow().Add(o.After), program: in.p, step: o.Step, height: o.Height, round: o.Round})
	case bft.Decision:
		s.decided(in, o)
	case bft.MissingValue:
		s.broadcast(in, &Message{SyncFrom: o.Height})
	case bft.Equivocation:
		first, ok1 := in.signed(o.First)
		second, ok2 := in.signed(o.Second)
		if !ok1 || !ok2 {
			return
		}
		e := consensus.Evidence{First: first, Second: second}
		log.Warn("equivocation", "member", in.c.Members[o.First.From].Node.String(), "height", o.First.Height)
		if err := s.store.putEvidence(&e); err != nil {
			log.Error("evidence not stored", "err", err)
		}
	}
}

// propose asks the application for a value, outside the instance's lock.
func (s *Shell) propose(in *instance, o bft.NeedValue) {
	if s.closed.Load() {
		return
	}
	s.wg.Go(func() {
		v, content, ok, err := s.cfg.App.Propose(s.ctx, in.p, o.Height)
		if err != nil {
			s.cfg.Log.Warn("no value to propose", "program", in.p.String(), "height", o.Height, "err", err)
		}
		if err != nil || !ok {
			return // the propose timeout moves the round on
		}
		in.mu.Lock()
		defer in.mu.Unlock()
		if len(in.content) < maxContents {
			in.content[v] = content
		}
		in.m.Propose(o.Height, o.Round, v)
		s.process(in)
	})
}

// validate asks the application for its verdict on a value, outside the
// instance's lock. Without the value's content there is no verdict: the
// round's propose timeout moves on.
func (s *Shell) validate(in *instance, h uint64, v id.Hash) {
	content, ok := in.content[v]
	if !ok || s.closed.Load() {
		return
	}
	s.wg.Go(func() {
		valid, err := s.cfg.App.Validate(s.ctx, in.p, h, v, content)
		if err != nil {
			s.cfg.Log.Warn("value not validated", "program", in.p.String(), "height", h, "err", err)
			return
		}
		in.mu.Lock()
		defer in.mu.Unlock()
		in.m.Learn(h, v, valid)
		s.process(in)
	})
}

// decided certifies a decision and hands it to the application.
func (s *Shell) decided(in *instance, d bft.Decision) {
	// The machine counted only votes whose signatures were verified on
	// arrival, and this member's own.
	cert, err := consensus.CertifyVerified(in.c, in.certified(d), in.signedAll(d.Precommits))
	if err == nil {
		err = s.cfg.App.Commit(in.p, d.Height, in.content[d.Value], cert)
	}
	if err != nil {
		s.cfg.Log.Error("decided height not applied", "program", in.p.String(), "height", d.Height, "err", err)
		s.drop(in.p) // reopened from the application's height on next use
		return
	}
	s.advanced(in, d.Height+1)
}

// advanced resets the instance after heights below next were applied.
func (s *Shell) advanced(in *instance, next uint64) {
	if err := s.store.forget(in.p, in.c.Epoch, next); err != nil {
		s.cfg.Log.Warn("signed messages not forgotten", "program", in.p.String(), "err", err)
	}
	in.reset()
	if s.cfg.App.Pending(in.p) {
		in.m.Wake()
	}
}

func (s *Shell) broadcast(in *instance, m *Message) {
	b := m.Encode()
	for _, mem := range in.c.Members {
		if mem.Node != s.cfg.Self {
			s.cfg.Transport.Send(mem.Node, in.p, b)
		}
	}
}

// resend sends this member's messages of the height's last two rounds,
// and its prevotes for values of any round (a polka of an early round may
// be what unlocks the height) — to every member, or to one (to ≥ 0: only
// the last round it signed in, for a member rounds behind).
func (s *Shell) resend(in *instance, to int) {
	r := in.m.Round()
	first := r - 1
	if to >= 0 {
		first = in.lastRound()
	}
	for _, k := range in.ownSorted() {
		o := in.own[k]
		var m *Message
		switch {
		case o.proposal != nil && k.round >= first:
			p := fromProposal(o.proposal)
			m = &Message{Proposal: o.proposal, Polka: in.signedAll(in.m.Polka(p)), Content: in.content[p.Value]}
		case o.ballot != nil && (k.round >= first || (to < 0 && k.step == uint8(bft.StepPrevote) && !o.ballot.Ballot.Value.IsZero())):
			m = &Message{Ballot: o.ballot}
		default:
			continue
		}
		if to < 0 {
			s.broadcast(in, m)
		} else {
			s.cfg.Transport.Send(in.c.Members[to].Node, in.p, m.Encode())
		}
	}
}
