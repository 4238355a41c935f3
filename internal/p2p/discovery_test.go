package p2p

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	"github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/dag/dagtest"
	"github.com/onvm-network/onvm/internal/id"
)

func mockHosts(t *testing.T, n, keyBase int) (mocknet.Mocknet, []host.Host) {
	t.Helper()
	mn := mocknet.New()
	t.Cleanup(func() { _ = mn.Close() })
	var hs []host.Host
	for i := range n {
		priv, _ := crypto.UnmarshalEd25519PrivateKey(dagtest.Key(keyBase + i))
		h, err := mn.AddPeer(priv, multiaddr.StringCast(fmt.Sprintf("/ip4/10.7.%d.%d/tcp/1", keyBase%256, i+1)))
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	if err := mn.LinkAll(); err != nil {
		t.Fatal(err)
	}
	return mn, hs
}

// TestBootnodeRedial keeps a bootnode connected: it is dialled at start,
// re-dialled after a disconnect, and retried with growing backoff while
// unreachable.
func TestBootnodeRedial(t *testing.T) {
	mn, hs := mockHosts(t, 2, 400)
	boot := peer.AddrInfo{ID: hs[0].ID(), Addrs: hs[0].Addrs()}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	d, err := NewDiscovery(ctx, &wg, hs[1], DiscoveryConfig{
		Bootnodes: []peer.AddrInfo{boot}, DisableDHT: true,
		BackoffMin: 20 * time.Millisecond, BackoffMax: time.Second, CheckInterval: 20 * time.Millisecond,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	connected := func() bool { return hs[1].Network().Connectedness(boot.ID) == network.Connected }
	waitFor(t, 10*time.Second, "first dial", connected)

	if err := mn.DisconnectPeers(hs[0].ID(), hs[1].ID()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "re-dial after a disconnect", connected)

	// Unreachable: attempts continue, spaced by a doubling backoff.
	if err := mn.UnlinkPeers(hs[0].ID(), hs[1].ID()); err != nil {
		t.Fatal(err)
	}
	_ = mn.DisconnectPeers(hs[0].ID(), hs[1].ID())
	start, before := time.Now(), d.dials.get(boot.ID)
	waitFor(t, 10*time.Second, "four failed dials", func() bool { return d.dials.get(boot.ID) >= before+4 })
	// Waits of at least half of 20, 40, 80 ms between the four dials.
	if el := time.Since(start); el < 70*time.Millisecond {
		t.Fatalf("four dials in %v: no backoff", el)
	}
	if _, err := mn.LinkPeers(hs[0].ID(), hs[1].ID()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "reconnect once reachable", connected)
}

func newNetworks(t *testing.T, hs []host.Host, cfg Config) ([]*Network, []*blob.Store) {
	t.Helper()
	var nets []*Network
	var stores []*blob.Store
	for i, h := range hs {
		st, err := blob.Open(blob.Options{Dir: t.TempDir(), DB: dagtest.DB(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		n, err := New(t.Context(), h, dagtest.Open(t, dagtest.Key(i), nil), st, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Close() })
		nets = append(nets, n)
		stores = append(stores, st)
	}
	return nets, stores
}

// TestDHTProviders has a node provide a blob in the private DHT; another
// finds it there and fetches the blob with no other hint.
func TestDHTProviders(t *testing.T) {
	mn, hs := mockHosts(t, 4, 500)
	nets, stores := newNetworks(t, hs, Config{Sync: SyncConfig{Interval: time.Hour}})
	if err := mn.ConnectAllButSelf(); err != nil {
		t.Fatal(err)
	}
	for _, n := range nets {
		waitFor(t, 10*time.Second, "dht routing tables", func() bool { return n.disc.DHT().RoutingTable().Size() >= 2 })
	}
	if p := nets[0].disc.DHT().Host().Mux().Protocols(); !containsProto(p, DHTProtocol) {
		t.Fatalf("DHT does not speak %s: %v", DHTProtocol, p)
	}
	data := bytes.Repeat([]byte("provided "), 100000)
	info, _, err := stores[0].Put(t.Context(), bytes.NewReader(data), "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	if err := nets[0].Provide(t.Context(), []id.Blob{info.ID}, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	found, err := nets[3].disc.FindProviders(ctx, id.Hash(info.ID), 4)
	if err != nil || len(found) == 0 || found[0].ID != hs[0].ID() {
		t.Fatalf("FindProviders = %v, %v", found, err)
	}
	got, err := nets[2].FetchBlob(t.Context(), info.ID)
	if err != nil || got.Size != int64(len(data)) {
		t.Fatalf("FetchBlob = %+v, %v", got, err)
	}
}

func containsProto[T ~string](ps []T, p T) bool {
	for _, x := range ps {
		if x == p {
			return true
		}
	}
	return false
}

func TestPeersAndMinPeersGate(t *testing.T) {
	mn, hs := mockHosts(t, 3, 600)
	nets, _ := newNetworks(t, hs, Config{Discovery: DiscoveryConfig{DisableDHT: true}, Sync: SyncConfig{Interval: time.Hour}})
	gate := nets[0].MinPeers(2)
	if err := gate(); !errors.Is(err, ErrNotEnoughPeers) {
		t.Fatalf("gate with no peers = %v", err)
	}
	if err := nets[0].MinPeers(0)(); err != nil {
		t.Fatalf("min 0 = %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- nets[0].WaitForPeers(t.Context(), 2) }()
	if err := mn.ConnectAllButSelf(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("WaitForPeers did not return")
	}
	if err := gate(); err != nil {
		t.Fatalf("gate with 2 peers = %v", err)
	}
	ps := nets[0].Peers()
	if len(ps) != 2 {
		t.Fatalf("Peers = %+v", ps)
	}
	for _, p := range ps {
		pid, _ := peer.Decode(p.ID)
		n, err := NodeOf(pid)
		if err != nil || n != p.Node || !p.ONVM || p.ConnectedSince.IsZero() || len(p.Addrs) == 0 {
			t.Fatalf("peer info %+v (%v)", p, err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := nets[0].WaitForPeers(ctx, 5); !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrNotEnoughPeers) {
		t.Fatalf("WaitForPeers beyond the cluster = %v", err)
	}
}

// TestMDNS starts two real hosts with mDNS on loopback. Multicast is not
// available everywhere (containers often lack it): the test is skipped,
// not failed, when the hosts do not find each other.
func TestMDNS(t *testing.T) {
	if testing.Short() {
		t.Skip("real network")
	}
	var hs []host.Host
	for i := range 2 {
		priv, _ := crypto.UnmarshalEd25519PrivateKey(dagtest.Key(700 + i))
		h, err := libp2p.New(libp2p.Identity(priv), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = h.Close() })
		hs = append(hs, h)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for _, h := range hs {
		d, err := NewDiscovery(ctx, &wg, h, DiscoveryConfig{MDNS: true, MDNSService: "onvm-test", DisableDHT: true}, nil)
		if err != nil {
			t.Skipf("mDNS cannot start here: %v", err)
		}
		defer d.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for hs[0].Network().Connectedness(hs[1].ID()) != network.Connected {
		if time.Now().After(deadline) {
			t.Skip("no multicast on this machine: mDNS peers not found")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCollectors(t *testing.T) {
	c := newCluster(t, 2, fastConfig())
	c.connect(0, 1)
	c.propose(0, 2)
	c.waitConverged(10*time.Second, 2)
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c.nodes[1].net.Collector()); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(c.nodes[1].d.Collector()); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, mf := range mfs {
		got[mf.GetName()] = true
	}
	for _, name := range []string{"onvm_p2p_peers", "onvm_p2p_sync_sessions_total", "onvm_dag_vertices_accepted_total", "onvm_dag_vertices_rejected_total"} {
		if !got[name] {
			t.Errorf("metric %s missing (have %v)", name, got)
		}
	}
}
