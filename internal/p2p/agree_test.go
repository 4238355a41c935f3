package p2p

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	"github.com/multiformats/go-multiaddr"

	"github.com/onvm-network/onvm/internal/dag/dagtest"
	"github.com/onvm-network/onvm/internal/id"
)

type agreePeer struct {
	a      *Agree
	h      host.Host
	node   id.Node
	scores *Scores
}

// newAgreePair links two agree services on a mock network.
func newAgreePair(t *testing.T, cfg AgreeConfig) (sender, receiver agreePeer) {
	t.Helper()
	mn := mocknet.New()
	t.Cleanup(func() { _ = mn.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	var peers []agreePeer
	for i := range 2 {
		priv, _ := crypto.UnmarshalEd25519PrivateKey(dagtest.Key(310 + i))
		h, err := mn.AddPeer(priv, multiaddr.StringCast(fmt.Sprintf("/ip4/10.9.0.%d/tcp/1", i+1)))
		if err != nil {
			t.Fatal(err)
		}
		s := NewScores()
		peers = append(peers, agreePeer{a: NewAgree(ctx, &wg, h, s, cfg, nil), h: h, node: dagtest.Node(dagtest.Key(310 + i)), scores: s})
	}
	if err := mn.LinkAll(); err != nil {
		t.Fatal(err)
	}
	if err := mn.ConnectAllButSelf(); err != nil {
		t.Fatal(err)
	}
	return peers[0], peers[1]
}

type gotMsg struct {
	from id.Node
	p    id.Program
	body string
}

func collect(ch chan gotMsg, err error) AgreeHandler {
	return func(from id.Node, p id.Program, b []byte) error {
		ch <- gotMsg{from, p, string(b)}
		return err
	}
}

func waitMsg(t *testing.T, ch chan gotMsg) gotMsg {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message arrived")
		return gotMsg{}
	}
}

// TestAgreeDeliversInOrder: messages to one peer arrive in order, with
// the authenticated sender and their program.
func TestAgreeDeliversInOrder(t *testing.T) {
	s, r := newAgreePair(t, AgreeConfig{Allow: func(id.Node) bool { return true }})
	ch := make(chan gotMsg, 100)
	r.a.Handle(collect(ch, nil))
	p := id.Program{7}
	for i := range 50 {
		s.a.Send(r.node, p, fmt.Appendf(nil, "m%d", i))
	}
	for i := range 50 {
		m := waitMsg(t, ch)
		if m.from != s.node || m.p != p || m.body != fmt.Sprintf("m%d", i) {
			t.Fatalf("message %d = %+v", i, m)
		}
	}
	if st := s.a.Stats(); st.Sent != 50 || st.Dropped != 0 {
		t.Fatalf("sender stats %+v", st)
	}
}

// TestAgreeRefusals: a node not allowed is not heard; a message its
// handler refuses scores the sender down; one over the size limit is
// dropped at the sender.
func TestAgreeRefusals(t *testing.T) {
	t.Run("not allowed", func(t *testing.T) {
		var s, r agreePeer
		s, r = newAgreePair(t, AgreeConfig{Allow: func(n id.Node) bool { return n != s.node }})
		ch := make(chan gotMsg, 10)
		r.a.Handle(collect(ch, nil))
		s.a.Send(r.node, id.Program{1}, []byte("x"))
		// The stream is refused before any frame is read: once the
		// refusal is counted, the message can no longer be delivered.
		deadline := time.Now().Add(10 * time.Second)
		for r.a.Stats().Refused == 0 {
			if time.Now().After(deadline) {
				t.Fatal("stream from a node not allowed not refused")
			}
			time.Sleep(time.Millisecond)
		}
		// The allowed direction still works.
		back := make(chan gotMsg, 10)
		s.a.Handle(collect(back, nil))
		r.a.Send(s.node, id.Program{1}, []byte("y"))
		waitMsg(t, back)
		select {
		case m := <-ch:
			t.Fatalf("message from a node not allowed delivered: %+v", m)
		default:
		}
	})
	t.Run("refused by the handler", func(t *testing.T) {
		s, r := newAgreePair(t, AgreeConfig{Allow: func(id.Node) bool { return true }})
		ch := make(chan gotMsg, 10)
		r.a.Handle(collect(ch, errors.New("bad signature")))
		s.a.Send(r.node, id.Program{1}, []byte("x"))
		waitMsg(t, ch)
		deadline := time.Now().Add(10 * time.Second)
		for r.a.Stats().Refused == 0 {
			if time.Now().After(deadline) {
				t.Fatal("refusal not counted")
			}
			time.Sleep(time.Millisecond)
		}
		if sc := r.scores.Score(s.h.ID()); sc >= 0 {
			t.Fatalf("sender's score %v after a refused message, want < 0", sc)
		}
	})
	t.Run("too large", func(t *testing.T) {
		s, r := newAgreePair(t, AgreeConfig{Allow: func(id.Node) bool { return true }, MaxMessage: 16})
		ch := make(chan gotMsg, 10)
		r.a.Handle(collect(ch, nil))
		s.a.Send(r.node, id.Program{1}, make([]byte, 17))
		s.a.Send(r.node, id.Program{1}, []byte("fits"))
		if m := waitMsg(t, ch); m.body != "fits" {
			t.Fatalf("got %+v, want the message that fits", m)
		}
		if st := s.a.Stats(); st.Dropped != 1 {
			t.Fatalf("dropped = %d, want 1", st.Dropped)
		}
	})
	t.Run("oversize frame from a peer", func(t *testing.T) {
		s, r := newAgreePair(t, AgreeConfig{Allow: func(id.Node) bool { return true }, MaxMessage: 16})
		r.a.Handle(collect(make(chan gotMsg, 10), nil))
		st, err := s.h.NewStream(t.Context(), r.h.ID(), AgreeProtocol)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriter(st)
		if err := writeMsg(w, &agreeFrame{Program: id.Program{1}, Body: make([]byte, 200)}); err != nil {
			t.Fatal(err)
		}
		_ = w.Flush()
		deadline := time.Now().Add(10 * time.Second)
		for r.scores.Score(s.h.ID()) >= 0 {
			if time.Now().After(deadline) {
				t.Fatal("oversize frame not scored down")
			}
			time.Sleep(time.Millisecond)
		}
	})
}
