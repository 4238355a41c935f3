package node

import (
	"errors"
	"sync/atomic"

	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/committee"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/p2p"
	"github.com/onvm-network/onvm/internal/program"
)

// agreeLink joins the chain engine, the committee shell and the agree
// protocol, which are built one after another (the engine before the
// shell that is its committees' agreement, the shell before the network
// that carries its messages): it is the engine's chain.Agreement and the
// shell's committee.Transport, and each side is attached once the other
// exists. Until the network is attached messages are dropped, which the
// shell tolerates: it sends again while a height is open.
type agreeLink struct {
	shell atomic.Pointer[committee.Shell]
	wire  atomic.Pointer[p2p.Agree]
}

var (
	_ chain.Agreement     = (*agreeLink)(nil)
	_ committee.Transport = (*agreeLink)(nil)
)

// Wake implements chain.Agreement.
func (l *agreeLink) Wake(p id.Program) error {
	s := l.shell.Load()
	if s == nil {
		return committee.ErrClosed
	}
	return s.Wake(p)
}

// Submit implements chain.Agreement.
func (l *agreeLink) Submit(p id.Program, call []byte) {
	if s := l.shell.Load(); s != nil {
		s.Submit(p, call)
	}
}

// Send implements committee.Transport.
func (l *agreeLink) Send(to id.Node, p id.Program, msg []byte) {
	if w := l.wire.Load(); w != nil {
		w.Send(to, p, msg)
	}
}

// receive hands a message from the network to the shell. A message about
// a program this node does not know yet (its deploy is still on the way)
// is not the sender's fault: it is dropped without scoring the sender
// down, and the sender repeats it while it matters.
func (l *agreeLink) receive(from id.Node, p id.Program, msg []byte) error {
	s := l.shell.Load()
	if s == nil {
		return nil
	}
	err := s.Receive(from, p, msg)
	if errors.Is(err, chain.ErrNotFound) || errors.Is(err, program.ErrNotFound) || errors.Is(err, committee.ErrClosed) {
		return nil
	}
	return err
}
