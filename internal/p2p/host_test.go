package p2p

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestFullAddrs checks that every address a node logs names its peer id,
// which is derived from the node key.
func TestFullAddrs(t *testing.T) {
	key := newKey(t)
	h, err := NewNetworkHost(NetworkHostConfig{Key: key, Listen: []string{"/ip4/127.0.0.1/tcp/0"}, DisableNATTraversal: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	want, err := peer.IDFromPublicKey(mustPub(t, key))
	if err != nil {
		t.Fatal(err)
	}
	addrs := FullAddrs(h)
	if len(addrs) == 0 {
		t.Fatal("no addresses")
	}
	for _, a := range addrs {
		ai, err := ParseBootnode(a)
		if err != nil || ai.ID != want {
			t.Errorf("address %s does not parse back to %s: %v", a, want, err)
		}
	}
}

func TestParseBootnodes(t *testing.T) {
	const id = "12D3KooWQUX1oDS8r2v1q27bJ9TwHhuBDy7hJCX6SqgrkVLF1f27"
	ais, errs := ParseBootnodes([]string{"/ip4/1.2.3.4/tcp/1/p2p/" + id, "", "junk", "/ip4/1.2.3.4/udp/1/quic-v1/p2p/" + id})
	if len(ais) != 1 || len(ais[0].Addrs) != 2 || len(errs) != 1 {
		t.Fatalf("ParseBootnodes = %v, %v", ais, errs)
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
