package p2p

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/onvm-network/onvm/internal/dag/dagtest"
)

// TestPeerFile: entries survive a save and a reopen, most recently seen
// first, bounded to maxRemembered; an unreadable file is reported and
// replaced by the next save.
func TestPeerFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "peers.json")
	f, err := openPeerFile(path)
	if err != nil || len(f.list()) != 0 {
		t.Fatalf("missing file: %v %v", f.list(), err)
	}
	var ids []peer.ID
	t0 := time.Unix(1_700_000_000, 0)
	for i := range maxRemembered + 3 {
		p, err := PeerOf(dagtest.Node(dagtest.Key(900 + i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p)
		f.note(p, []multiaddr.Multiaddr{multiaddr.StringCast(fmt.Sprintf("/ip4/10.0.0.%d/tcp/37000", i+1))}, t0.Add(time.Duration(i)*time.Second))
	}
	f.note(ids[0], nil, t0.Add(time.Hour)) // no address: ignored
	if err := f.save(); err != nil {
		t.Fatal(err)
	}
	g, err := openPeerFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := g.list()
	if len(got) != maxRemembered {
		t.Fatalf("%d peers remembered, want %d", len(got), maxRemembered)
	}
	if got[0].ID != ids[len(ids)-1] || slices.ContainsFunc(got, func(ai peer.AddrInfo) bool { return ai.ID == ids[0] }) {
		t.Fatalf("not the most recently seen first, or the oldest kept: first %s", got[0].ID)
	}
	if want := "/ip4/10.0.0.67/tcp/37000"; got[0].Addrs[0].String() != want {
		t.Fatalf("address %s, want %s", got[0].Addrs[0], want)
	}

	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad, err := openPeerFile(path)
	if err == nil || len(bad.list()) != 0 {
		t.Fatalf("corrupt file: %v %v", bad.list(), err)
	}
	bad.note(ids[1], got[0].Addrs, t0)
	if err := bad.save(); err != nil {
		t.Fatal(err)
	}
	if again, err := openPeerFile(path); err != nil || len(again.list()) != 1 {
		t.Fatalf("after replacing a corrupt file: %v %v", again.list(), err)
	}
}

// TestRememberedPeersRedialled: a node remembers the ONVM peer it met
// through its bootnode setting and, started again without any bootnode
// and without the peer's addresses in memory, dials it from the peer file.
func TestRememberedPeersRedialled(t *testing.T) {
	mn, hs := mockHosts(t, 3, 420)
	for _, h := range hs[:2] {
		h.SetStreamHandler(SyncProtocol, func(s network.Stream) { _ = s.Reset() })
	}
	// hs[2] does not speak ONVM: it is not remembered.
	path := filepath.Join(t.TempDir(), "peers.json")
	start := func(boot ...peer.AddrInfo) func() {
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		d, err := NewDiscovery(ctx, &wg, hs[1], DiscoveryConfig{Bootnodes: boot, DisableDHT: true, PeerFile: path,
			BackoffMin: 20 * time.Millisecond, CheckInterval: 20 * time.Millisecond}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return func() { cancel(); wg.Wait(); _ = d.Close() }
	}
	stop := start(peer.AddrInfo{ID: hs[0].ID(), Addrs: hs[0].Addrs()}, peer.AddrInfo{ID: hs[2].ID(), Addrs: hs[2].Addrs()})
	remembered := func() []peer.ID {
		f, _ := openPeerFile(path)
		var out []peer.ID
		for _, ai := range f.list() {
			out = append(out, ai.ID)
		}
		return out
	}
	// Saved soon after the meeting, not only at a clean stop.
	waitFor(t, 10*time.Second, "the ONVM peer in the peer file", func() bool { return slices.Contains(remembered(), hs[0].ID()) })
	stop()
	if got := remembered(); len(got) != 1 || got[0] != hs[0].ID() {
		t.Fatalf("remembered %v, want only %s", got, hs[0].ID())
	}

	for _, p := range []host.Host{hs[0], hs[2]} {
		_ = mn.DisconnectPeers(hs[1].ID(), p.ID())
		hs[1].Peerstore().ClearAddrs(p.ID())
	}
	stop = start()
	defer stop()
	waitFor(t, 10*time.Second, "the remembered peer redialled", func() bool {
		return hs[1].Network().Connectedness(hs[0].ID()) == network.Connected
	})
}
