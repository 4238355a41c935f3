package p2p

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/onvm-network/onvm/internal/dag/dagtest"
)

func newTestHost(t testing.TB, i int, listen ...string) host.Host {
	t.Helper()
	if len(listen) == 0 {
		listen = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}
	}
	h, err := NewNetworkHost(NetworkHostConfig{Key: dagtest.Key(800 + i), Listen: listen, DisableNATTraversal: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

// TestNetworkHost connects two production hosts over TCP and over QUIC
// and checks the identity and the security handshake chosen.
func TestNetworkHost(t *testing.T) {
	a, b := newTestHost(t, 0), newTestHost(t, 1)
	if n, err := NodeOf(a.ID()); err != nil || n != dagtest.Node(dagtest.Key(800)) {
		t.Fatalf("peer id is not the node key: %v %v", n, err)
	}
	for _, transport := range []string{"/tcp/", "/quic-v1"} {
		t.Run(strings.Trim(transport, "/"), func(t *testing.T) {
			var addrs = b.Addrs()[:0:0]
			for _, ad := range b.Addrs() {
				if strings.Contains(ad.String(), transport) {
					addrs = append(addrs, ad)
				}
			}
			a.Network().ClosePeer(b.ID())
			if err := a.Connect(context.Background(), peer.AddrInfo{ID: b.ID(), Addrs: addrs}); err != nil {
				t.Fatal(err)
			}
			c := a.Network().ConnsToPeer(b.ID())
			if len(c) == 0 {
				t.Fatal("no connection")
			}
			st := c[0].ConnState()
			if transport == "/tcp/" && (st.Security != "/tls/1.0.0" || st.StreamMultiplexer != "/yamux/1.0.0") {
				t.Fatalf("TCP connection state %+v", st)
			}
		})
	}
}

// TestNetworkHostPortBump takes a port and asks for it: the host listens
// on a higher one.
func TestNetworkHostPortBump(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	if port >= 65000 {
		t.Skip("port too high to bump")
	}
	h := newTestHost(t, 2, fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port))
	got := h.Network().ListenAddresses()
	if len(got) != 1 || strings.HasSuffix(got[0].String(), fmt.Sprintf("/tcp/%d", port)) {
		t.Fatalf("listening on %v with %d taken", got, port)
	}
}
