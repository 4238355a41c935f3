package committee

import (
	"fmt"

	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
)

// maxSync bounds the decided heights sent for one request.
const maxSync = 16

// Receive handles a message about p from member node from (the transport
// authenticated the peer). An error means the message was malformed, not
// from a member, or badly signed: the transport scores the peer down.
func (s *Shell) Receive(from id.Node, p id.Program, b []byte) error {
	msg, err := DecodeMessage(b)
	if err != nil {
		return err
	}
	in, err := s.instance(p)
	if err != nil {
		return err
	}
	sender := in.c.Index(from)
	if sender < 0 {
		return fmt.Errorf("%w: %s is not a member of the committee of %s", consensus.ErrNotMember, from, p)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	defer s.process(in)
	switch {
	case msg.Ballot != nil:
		if err := in.verify(msg.Ballot); err != nil {
			return err
		}
		v := fromBallot(msg.Ballot)
		s.arrived(in, sender, v.Height, v.Round)
		in.m.Vote(v)
	case msg.Proposal != nil:
		return s.receiveProposal(in, sender, msg)
	case msg.SyncFrom != 0:
		s.sendDecided(in, sender, msg.SyncFrom)
	case msg.Decided != nil:
		return s.catchUp(in, msg.Decided, msg.Content)
	case msg.Call != nil:
		if err := s.cfg.App.Deliver(p, msg.Call); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidMessage, err)
		}
		in.m.Wake()
	}
	return nil
}

func (s *Shell) receiveProposal(in *instance, sender int, msg *Message) error {
	sp := msg.Proposal
	if err := sp.Verify(in.c); err != nil {
		return err
	}
	for i := range msg.Polka {
		v := &msg.Polka[i]
		if v.Ballot.Step != consensus.StepPrevote || v.Ballot.Height != sp.Proposal.Height || v.Ballot.Value != sp.Proposal.Value {
			return fmt.Errorf("%w: a polka ballot of another value", ErrInvalidMessage)
		}
		if err := in.verify(v); err != nil {
			return err
		}
	}
	if len(msg.Content) > 0 {
		if err := s.binds(msg.Content, sp.Proposal.Value); err != nil {
			return err
		}
	}
	p := fromProposal(sp)
	s.arrived(in, sender, p.Height, p.Round)
	if p.Height == in.m.Height() && len(msg.Content) > 0 && len(in.content) < maxContents {
		if _, ok := in.content[p.Value]; !ok {
			in.content[p.Value] = msg.Content
		}
	}
	for i := range msg.Polka {
		in.m.Vote(fromBallot(&msg.Polka[i]))
	}
	in.m.Proposal(p)
	return nil
}

// arrived notes a message of (h, r) from member sender: a member at a
// later height is asked for the heights this one lacks; one at an earlier
// height is sent them; one rounds behind is sent this member's latest
// messages so that it can skip ahead.
func (s *Shell) arrived(in *instance, sender int, h uint64, r int) {
	own := in.m.Height()
	switch {
	case h > own:
		if now := timeNow(); now.Sub(in.asked) >= s.cfg.Resend {
			in.asked = now
			s.cfg.Transport.Send(in.c.Members[sender].Node, in.p, (&Message{SyncFrom: own}).Encode())
		}
	case h < own:
		s.sendDecided(in, sender, h)
	default:
		in.touched = true
		if r < in.m.Round() && in.lastRound() > r {
			s.resend(in, sender)
		}
	}
}

// sendDecided sends member to the decided heights from h on.
func (s *Shell) sendDecided(in *instance, to int, h uint64) {
	for k := h; k < in.m.Height() && k < h+maxSync; k++ {
		content, cert, ok := s.cfg.App.Decided(in.p, k)
		if !ok {
			return
		}
		s.cfg.Transport.Send(in.c.Members[to].Node, in.p, (&Message{Decided: cert, Content: content}).Encode())
	}
}

// catchUp applies a decided height learnt from a member, if it is the one
// this node is deciding: the certificate is proof enough.
func (s *Shell) catchUp(in *instance, cert *consensus.Certificate, content []byte) error {
	h := in.m.Height()
	if cert.Ballot.Height != h {
		return nil
	}
	if err := cert.Verify(in.c); err != nil {
		return err
	}
	if err := s.binds(content, cert.Ballot.Value); err != nil {
		return err
	}
	if err := s.cfg.App.Commit(in.p, h, content, cert); err != nil {
		// Typically the application is ahead: it applied the height
		// another way (the DAG). Reopen from the application's height.
		s.cfg.Log.Debug("decided height from a member not applied", "program", in.p.String(), "height", h, "err", err)
		s.drop(in.p)
		return nil
	}
	in.m.AdvanceTo(h + 1)
	s.advanced(in, h+1)
	return nil
}

// binds checks that content stands for value.
func (s *Shell) binds(content []byte, value id.Hash) error {
	v, err := s.cfg.App.ValueOf(content)
	if err != nil || v != value {
		return fmt.Errorf("%w: content is not the value %.8s", ErrInvalidMessage, value)
	}
	return nil
}
