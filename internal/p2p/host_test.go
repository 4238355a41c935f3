package p2p

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func startHost(t *testing.T, cfg HostConfig) *Host {
	t.Helper()
	if cfg.Key == nil {
		cfg.Key = newKey(t)
	}
	h, err := NewHost(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func TestHostIdentityAndAddrs(t *testing.T) {
	key := newKey(t)
	h := startHost(t, HostConfig{Key: key, Listen: []string{"/ip4/127.0.0.1/tcp/0"}})
	want, err := peer.IDFromPublicKey(mustPub(t, key))
	if err != nil {
		t.Fatal(err)
	}
	if h.ID() != want {
		t.Errorf("peer id %s, want %s derived from the node key", h.ID(), want)
	}
	addrs := h.ListenAddrs()
	if len(addrs) != 1 || !strings.HasSuffix(addrs[0].String(), "/p2p/"+want.String()) {
		t.Errorf("ListenAddrs = %v, want one ending in /p2p/%s", addrs, want)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestHostPortAutoIncrement(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	if port >= 65000 {
		t.Skip("ephemeral port too close to the top of the range")
	}
	h := startHost(t, HostConfig{Listen: []string{fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port)}})
	got, err := h.ListenAddrs()[0].ValueForProtocol(multiaddr.P_TCP)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	fmt.Sscan(got, &n)
	if n <= port {
		t.Errorf("bound port %d, want above the taken %d", n, port)
	}
}

func TestHostBootnodeConnects(t *testing.T) {
	a := startHost(t, HostConfig{Listen: []string{"/ip4/127.0.0.1/tcp/0"}})
	b := startHost(t, HostConfig{
		Listen:    []string{"/ip4/127.0.0.1/tcp/0"},
		Bootnodes: []string{"not a multiaddr", a.ListenAddrs()[0].String()},
	})
	deadline := time.Now().Add(10 * time.Second)
	for b.Peers() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("bootnode never connected")
		}
		time.Sleep(10 * time.Millisecond) // polling, not synchronising
	}
}

func TestParseBootnode(t *testing.T) {
	const id = "12D3KooWQUX1oDS8r2v1q27bJ9TwHhuBDy7hJCX6SqgrkVLF1f27"
	tests := []struct {
		in   string
		ok   bool
		addr string
	}{
		{"/ip4/1.2.3.4/tcp/37000/p2p/" + id, true, "/ip4/1.2.3.4/tcp/37000"},
		{" /ip4/1.2.3.4/tcp/37000/" + id + " ", true, "/ip4/1.2.3.4/tcp/37000"},
		{"/ip4/1.2.3.4/tcp/37000", false, ""},
		{"/ip4/1.2.3.4/tcp/37000/short", false, ""},
		{"", false, ""},
	}
	for _, tt := range tests {
		ai, err := ParseBootnode(tt.in)
		if !tt.ok {
			if err == nil {
				t.Errorf("ParseBootnode(%q) accepted", tt.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseBootnode(%q): %v", tt.in, err)
			continue
		}
		if ai.ID.String() != id || len(ai.Addrs) != 1 || ai.Addrs[0].String() != tt.addr {
			t.Errorf("ParseBootnode(%q) = %v", tt.in, ai)
		}
	}
}
func mustPub(t *testing.T, k ed25519.PrivateKey) crypto.PubKey {
	t.Helper()
	pub, err := crypto.UnmarshalEd25519PublicKey(k.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return pub
}
