package p2p

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	"github.com/multiformats/go-multiaddr"

	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/dagtest"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
)

// tnode is one in-process node: a mocknet host, a DAG with a recording
// catalog of handlers, and the network services.
type tnode struct {
	i   int
	key ed25519.PrivateKey
	h   *filterHost
	d   *dag.DAG
	cat *dagtest.Catalog
	net *Network
}

type cluster struct {
	t     testing.TB
	mn    mocknet.Mocknet
	nodes []*tnode
	cfg   Config
}

// fastConfig is a network configuration for in-process tests: no DHT,
// quick periodic sync.
func fastConfig() Config {
	return Config{
		Discovery: DiscoveryConfig{DisableDHT: true},
		Sync:      SyncConfig{Interval: 300 * time.Millisecond, Peers: 2},
	}
}

func newCluster(t testing.TB, n int, cfg Config) *cluster {
	t.Helper()
	c := &cluster{t: t, mn: mocknet.New(), cfg: cfg}
	t.Cleanup(func() { _ = c.mn.Close() })
	for range n {
		c.add()
	}
	return c
}

// add creates one more node, linked to every existing one but not
// connected.
func (c *cluster) add() *tnode {
	t := c.t
	t.Helper()
	i := len(c.nodes)
	key := dagtest.Key(i)
	priv, err := crypto.UnmarshalEd25519PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	addr := multiaddr.StringCast(fmt.Sprintf("/ip4/10.%d.%d.%d/tcp/4242", i/65536%256, i/256%256, i%256+1))
	mh, err := c.mn.AddPeer(priv, addr)
	if err != nil {
		t.Fatal(err)
	}
	h := &filterHost{Host: mh}
	cat := dagtest.NewCatalog()
	scores := NewScores()
	d, err := dag.Open(context.Background(), dag.Config{DB: dagtest.DB(t), Registry: cat.Registry(), Key: key,
		OnInvalidOp: scores.BlameAuthor})
	if err != nil {
		t.Fatal(err)
	}
	cfg := c.cfg
	cfg.Scores = scores
	net, err := New(context.Background(), h, d, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = net.Close() }) // before the database closes
	nd := &tnode{i: i, key: key, h: h, d: d, cat: cat, net: net}
	c.nodes = append(c.nodes, nd)
	if err := c.mn.LinkAll(); err != nil {
		t.Fatal(err)
	}
	return nd
}

func (c *cluster) connect(a, b int) {
	c.t.Helper()
	if _, err := c.mn.ConnectPeers(c.nodes[a].h.ID(), c.nodes[b].h.ID()); err != nil {
		c.t.Fatalf("connect %d-%d: %v", a, b, err)
	}
}

// meshTopology connects a ring plus random chords: every node has degree
// about 2+extra, and messages need several hops.
func (c *cluster) meshTopology(extra int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	n := len(c.nodes)
	for i := range n {
		c.connect(i, (i+1)%n)
		for range extra {
			if j := rng.IntN(n); j != i {
				c.connect(i, j)
			}
		}
	}
}

// partition cuts every link between group a and the rest of the cluster's
// given members.
func (c *cluster) cut(a, b []int) {
	c.t.Helper()
	for _, i := range a {
		for _, j := range b {
			c.nodes[i].h.blocked.Store(c.nodes[j].h.ID(), true)
			c.nodes[j].h.blocked.Store(c.nodes[i].h.ID(), true)
		}
	}
	for _, i := range a {
		for _, j := range b {
			pi, pj := c.nodes[i].h.ID(), c.nodes[j].h.ID()
			if len(c.mn.LinksBetweenPeers(pi, pj)) > 0 {
				if err := c.mn.UnlinkPeers(pi, pj); err != nil {
					c.t.Fatal(err)
				}
			}
			_ = c.mn.DisconnectPeers(pi, pj)
		}
	}
	// mocknet closes the remote half of a connection asynchronously, and a
	// stream opened on it meanwhile still reaches the other side: wait
	// until both halves of every cut connection are gone.
	deadline := time.Now().Add(10 * time.Second)
	for {
		open := false
		for _, i := range a {
			for _, j := range b {
				pi, pj := c.nodes[i].h.ID(), c.nodes[j].h.ID()
				if len(c.mn.Net(pi).ConnsToPeer(pj))+len(c.mn.Net(pj).ConnsToPeer(pi)) > 0 {
					open = true
					_ = c.mn.DisconnectPeers(pi, pj)
					_ = c.mn.DisconnectPeers(pj, pi)
				}
			}
		}
		if !open {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatal("partition: connections still open")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// heal links and connects every pair between a and b.
func (c *cluster) heal(a, b []int) {
	c.t.Helper()
	for _, i := range a {
		for _, j := range b {
			c.nodes[i].h.blocked.Delete(c.nodes[j].h.ID())
			c.nodes[j].h.blocked.Delete(c.nodes[i].h.ID())
		}
	}
	for _, i := range a {
		for _, j := range b {
			pi, pj := c.nodes[i].h.ID(), c.nodes[j].h.ID()
			if len(c.mn.LinksBetweenPeers(pi, pj)) == 0 {
				if _, err := c.mn.LinkPeers(pi, pj); err != nil {
					c.t.Fatal(err)
				}
			}
			c.connect(i, j)
		}
	}
}

// filterHost wraps a host to make it mute: its outgoing gossip streams
// fail and incoming sync streams are refused, so it hears but is not
// heard (an asymmetric partition).
//
// It also blocks peers: no stream to or from a blocked peer. A partition
// blocks before it disconnects, because mocknet tears the two halves of a
// connection down separately and a stream opened in between would still
// get through.
type filterHost struct {
	host.Host
	muted   atomic.Bool
	blocked sync.Map // peer.ID → true
}

func (f *filterHost) isBlocked(p peer.ID) bool {
	_, ok := f.blocked.Load(p)
	return ok
}

func (f *filterHost) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	if f.isBlocked(p) {
		return nil, errors.New("blocked")
	}
	if f.muted.Load() && !slices.Contains(pids, SyncProtocol) && !slices.Contains(pids, BlobProtocol) {
		return nil, errors.New("muted")
	}
	return f.Host.NewStream(ctx, p, pids...)
}

func (f *filterHost) SetStreamHandler(pid protocol.ID, handler network.StreamHandler) {
	f.Host.SetStreamHandler(pid, func(s network.Stream) {
		if f.isBlocked(s.Conn().RemotePeer()) || (f.muted.Load() && pid == SyncProtocol) {
			_ = s.Reset()
			return
		}
		handler(s)
	})
}

// mute makes node i mute until the returned flag is cleared.
func (c *cluster) mute(i int) *atomic.Bool {
	c.nodes[i].h.muted.Store(true)
	return &c.nodes[i].h.muted
}

type (
	idHash = id.Hash
	dagKey struct {
		key  ed25519.PrivateKey
		seq  uint64
		last id.Hash
	}
)

// propose makes node i propose k synthetic BlobPublished operations with
// random blob ids and gossips the vertex.
func (c *cluster) propose(i, k int) *dag.Vertex {
	c.t.Helper()
	nd := c.nodes[i]
	ops := make([]dag.Op, k)
	for j := range ops {
		var b id.Blob
		for w := 0; w < len(b); w += 8 {
			v := rand.Uint64()
			for x := range 8 {
				b[w+x] = byte(v >> (8 * x))
			}
		}
		o, err := op.BlobPublished{Blob: b, Size: int64(j), Mime: "application/octet-stream", Publisher: dagtest.Node(nd.key)}.Op()
		if err != nil {
			c.t.Fatal(err)
		}
		ops[j] = o
	}
	v, dropped, err := nd.d.Propose(context.Background(), ops)
	if err != nil || len(dropped) > 0 {
		c.t.Fatalf("node %d propose: %v %v", i, err, dropped)
	}
	nd.net.Announce(context.Background(), v)
	return v
}

type view struct {
	Heads   []id.Hash
	VV      []dag.VVEntry
	Applied []id.Hash
}

func (nd *tnode) view() view {
	return view{nd.d.Heads(), nd.d.VersionVector().Entries(), nd.cat.Applied()}
}

// waitConverged polls until every listed node (all if none) has the same
// heads, version vector and applied operations, with want operations
// applied, and no causal-order or duplicate violations.
func (c *cluster) waitConverged(timeout time.Duration, want int, which ...int) {
	c.t.Helper()
	if len(which) == 0 {
		for i := range c.nodes {
			which = append(which, i)
		}
	}
	deadline := time.Now().Add(timeout)
	for {
		ok := true
		first := c.nodes[which[0]].view()
		for _, i := range which {
			if c.nodes[i].cat.Len() != want {
				ok = false
				break
			}
		}
		if ok {
			for _, i := range which[1:] {
				if !cmp.Equal(first, c.nodes[i].view()) {
					ok = false
					break
				}
			}
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			var lens []string
			for _, i := range which {
				lens = append(lens, fmt.Sprintf("%d:%d/%d", i, c.nodes[i].cat.Len(), c.nodes[i].d.Len()))
			}
			for _, i := range which {
				vv := c.nodes[i].d.VersionVector()
				var parts []string
				for j, nd := range c.nodes {
					parts = append(parts, fmt.Sprintf("%d=%d/conns%d/links%d", j, vv[dagtest.Node(nd.key)], len(c.nodes[i].h.Network().ConnsToPeer(nd.h.ID())), len(c.mn.LinksBetweenPeers(c.nodes[i].h.ID(), nd.h.ID()))))
				}
				c.t.Logf("node %d: %v", i, parts)
			}
			c.t.Fatalf("no convergence in %v; applied/accepted per node %v, want %d ops", timeout, lens, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, i := range which {
		if errs := c.nodes[i].cat.Errors(); len(errs) > 0 {
			c.t.Fatalf("node %d: %v", i, errs[0])
		}
	}
}

func sortedIDs(hs []id.Hash) []id.Hash {
	out := slices.Clone(hs)
	slices.SortFunc(out, func(a, b id.Hash) int { return bytes.Compare(a[:], b[:]) })
	return out
}
