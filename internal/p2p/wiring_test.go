package p2p

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/dagtest"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
)

// wiredNode is a node put together the way internal/node is meant to do
// it: registry and handlers, DAG, production host, network, proposer.
type wiredNode struct {
	d     *dag.DAG
	net   *Network
	prop  *dag.Proposer
	store *blob.Store
	cat   *dagtest.Catalog
}

func wire(t *testing.T, i int, boot []peer.AddrInfo) *wiredNode {
	t.Helper()
	key := dagtest.Key(900 + i)
	db := dagtest.DB(t)
	// 1. Operation kinds and their handlers (the node's catalog, state, jobs…).
	cat := dagtest.NewCatalog()
	reg := cat.Registry()
	// 2. The DAG on the node's database, re-driving anything left unapplied.
	d, err := dag.Open(t.Context(), dag.Config{DB: db, Registry: reg, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	store, err := blob.Open(blob.Options{Dir: t.TempDir(), DB: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	// 3. The host, then the network services on it.
	h, err := NewNetworkHost(NetworkHostConfig{Key: key, Listen: []string{"/ip4/127.0.0.1/tcp/0"}, DisableNATTraversal: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	n, err := New(t.Context(), h, d, store, Config{Discovery: DiscoveryConfig{Bootnodes: boot}, Sync: SyncConfig{Interval: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() }) // before the host and the database
	// 4. A BlobPublished operation tells the network who provides a blob.
	cat.OnApply = func(o dag.Op, _ *dag.Vertex) {
		if o.Kind == op.KindBlobPublished {
			if bp, err := op.DecodeBlobPublished(o); err == nil {
				n.Providers().AddNode(id.Hash(bp.Blob), bp.Publisher)
			}
		}
	}
	// 5. The proposer batches local operations and announces each vertex.
	prop, err := dag.NewProposer(d, dag.ProposerConfig{Slot: 50 * time.Millisecond, Announce: n.Announce})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = prop.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return &wiredNode{d: d, net: n, prop: prop, store: store, cat: cat}
}

// TestWiredNodesOverTCP runs two fully wired nodes over loopback TCP: an
// upload on one is announced through the DAG, and the other fetches the
// blob knowing only its id.
func TestWiredNodesOverTCP(t *testing.T) {
	a := wire(t, 0, nil)
	ha := a.net.Host()
	b := wire(t, 1, []peer.AddrInfo{{ID: ha.ID(), Addrs: ha.Addrs()}})
	if err := b.net.WaitForPeers(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	// The bootnode counts its peer once its own identify of it is done,
	// which may be a moment after the dialler's.
	if err := a.net.WaitForPeers(t.Context(), 1); err != nil || a.net.MinPeers(1)() != nil {
		t.Fatalf("the bootnode does not count its peer: %v", err)
	}

	data := bytes.Repeat([]byte("wired "), 50000)
	info, _, err := a.store.Put(t.Context(), bytes.NewReader(data), "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	o, err := op.BlobPublished{Blob: info.ID, Size: info.Size, Mime: info.MIME, Publisher: a.d.Self()}.Op()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.prop.Submit(o); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the operation on the other node", func() bool { return b.cat.Len() == 1 })
	got, err := b.net.FetchBlob(t.Context(), info.ID)
	if err != nil || got.Size != info.Size {
		t.Fatalf("FetchBlob = %+v, %v", got, err)
	}
	if ps := b.net.Peers(); len(ps) != 1 || ps[0].AgentVersion != "onvm" || ps[0].Latency < 0 {
		t.Fatalf("peers %+v", ps)
	}
}
