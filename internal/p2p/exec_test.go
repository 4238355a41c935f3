package p2p

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	"github.com/multiformats/go-multiaddr"

	"github.com/onvm-network/onvm/internal/dag/dagtest"
	"github.com/onvm-network/onvm/internal/id"
)

func newExecPair(t *testing.T, cfg ExecConfig) (client, server *Exec, clientNode id.Node) {
	t.Helper()
	mn := mocknet.New()
	t.Cleanup(func() { _ = mn.Close() })
	var execs []*Exec
	for i := range 2 {
		priv, _ := crypto.UnmarshalEd25519PrivateKey(dagtest.Key(300 + i))
		h, err := mn.AddPeer(priv, multiaddr.StringCast(fmt.Sprintf("/ip4/10.8.0.%d/tcp/1", i+1)))
		if err != nil {
			t.Fatal(err)
		}
		execs = append(execs, NewExec(h, cfg, nil))
	}
	if err := mn.LinkAll(); err != nil {
		t.Fatal(err)
	}
	if err := mn.ConnectAllButSelf(); err != nil {
		t.Fatal(err)
	}
	return execs[0], execs[1], dagtest.Node(dagtest.Key(300))
}

func TestExecForwarding(t *testing.T) {
	serverNode := dagtest.Node(dagtest.Key(301))
	allowAll := func(id.Node) bool { return true }
	echo := func(_ context.Context, from id.Node, req []byte) ([]byte, error) {
		return append(from[:4:4], req...), nil
	}
	tests := []struct {
		name    string
		cfg     ExecConfig
		handler ExecHandler
		req     []byte
		calls   int
		want    error
	}{
		{"answer carries the authenticated sender", ExecConfig{Allow: allowAll}, echo, []byte("hi"), 1, nil},
		{"nobody allowed by default", ExecConfig{}, echo, []byte("hi"), 1, ErrDenied},
		{"unknown node denied", ExecConfig{Allow: func(n id.Node) bool { return n == serverNode }}, echo, []byte("hi"), 1, ErrDenied},
		{"no handler", ExecConfig{Allow: allowAll}, nil, []byte("hi"), 1, ErrUnavailable},
		{"handler error", ExecConfig{Allow: allowAll}, func(context.Context, id.Node, []byte) ([]byte, error) {
			return nil, errors.New("not the leader: ask 1234")
		}, []byte("x"), 1, ErrRemote},
		{"input over 1 MiB", ExecConfig{Allow: allowAll}, echo, make([]byte, MaxExecInput+1), 1, ErrTooLarge},
		{"rate limited", ExecConfig{Allow: allowAll, Rate: 0.001, Burst: 2}, echo, []byte("x"), 3, ErrRateLimited},
		{"response over the limit", ExecConfig{Allow: allowAll, MaxResponse: 10}, func(context.Context, id.Node, []byte) ([]byte, error) {
			return make([]byte, 11), nil
		}, []byte("x"), 1, ErrRemote},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server, me := newExecPair(t, tt.cfg)
			if tt.handler != nil {
				server.Handle(tt.handler)
			}
			var out []byte
			var err error
			for range tt.calls {
				out, err = client.Call(t.Context(), serverNode, tt.req)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Call = %v, want %v", err, tt.want)
			}
			if tt.want == nil && string(out) != string(append(me[:4:4], tt.req...)) {
				t.Fatalf("answer %q", out)
			}
		})
	}
}

// TestExecServerBoundsInput sends a frame over the limit by hand: the
// server refuses it without reading it all.
func TestExecServerBoundsInput(t *testing.T) {
	client, server, _ := newExecPair(t, ExecConfig{Allow: func(id.Node) bool { return true }})
	called := false
	server.Handle(func(context.Context, id.Node, []byte) ([]byte, error) { called = true; return nil, nil })
	st, err := client.h.NewStream(t.Context(), server.h.ID(), ExecProtocol)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w := bufio.NewWriter(st)
	_ = writeFrame(w, make([]byte, MaxExecInput+execEnvelope+1))
	_ = w.Flush()
	var resp execResp
	if err := readMsg(bufio.NewReader(st), 1<<10, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Status != execTooLarge || called {
		t.Fatalf("status %d, handler called %v", resp.Status, called)
	}
}
