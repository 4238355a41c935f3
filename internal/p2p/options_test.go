package p2p

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

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

// TestNetworkHostPortExclusive starts a host on a port and a second host
// asking for the same one: the second must move up, on TCP and on QUIC.
// With SO_REUSEPORT on the listening socket (go-libp2p's TCP default) both
// would listen on the port and the kernel would split connections between
// them.
func TestNetworkHostPortExclusive(t *testing.T) {
	for _, tc := range []struct {
		name, listen string
		proto        int
	}{
		{"tcp", "/ip4/127.0.0.1/tcp/0", multiaddr.P_TCP},
		{"quic", "/ip4/127.0.0.1/udp/0/quic-v1", multiaddr.P_UDP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			taken := newTestHost(t, 3, tc.listen).Network().ListenAddresses()[0]
			port, err := taken.ValueForProtocol(tc.proto)
			if err != nil {
				t.Fatal(err)
			}
			if port == "65535" {
				t.Skip("port too high to bump")
			}
			got := newTestHost(t, 4, taken.String()).Network().ListenAddresses()
			if len(got) != 1 {
				t.Fatalf("second host listens on %v", got)
			}
			if p, _ := got[0].ValueForProtocol(tc.proto); p == port {
				t.Fatalf("second host listens on %s, which the first holds", got[0])
			}
		})
	}
}
