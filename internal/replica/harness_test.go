package replica

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/bls"
	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/dagtest"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/identity"
	"github.com/onvm-network/onvm/internal/p2p"
	"github.com/onvm-network/onvm/internal/program"
	"github.com/onvm-network/onvm/internal/state"
	"github.com/onvm-network/onvm/internal/wasm"
)

// testNode is one node wired as internal/node wires it — replica, chain
// engine, DAG, loopback host, network services, proposer — on an
// in-memory database, not started: the test stores what a crash would
// have left, then calls Start.
type testNode struct {
	db    *pebble.DB
	blobs *blob.Store
	r     *Replica
	d     *dag.DAG
	box   *dag.Outbox
	prop  *dag.Proposer
}

// newTestNode wires node i; cfg adjusts the proposer's configuration.
func newTestNode(t *testing.T, i int, cfg dag.ProposerConfig) *testNode {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	n := &testNode{db: dagtest.DB(t)}
	sk, err := bls.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{byte(i + 1)}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	keys := &identity.Keys{Ed25519: dagtest.Key(i), BLS: sk}
	if n.box, err = dag.NewOutbox(n.db, op.Registry(), keys.Node()); err != nil {
		t.Fatal(err)
	}
	out := NewOutgoing(n.box, keys.Node(), nil)
	if n.blobs, err = blob.Open(blob.Options{Dir: filepath.Join(t.TempDir(), "blobs"), DB: n.db, OnComplete: out.StageBlob}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.blobs.Close() })
	vals, err := OpenValidators(n.db, SelfValidator(keys), DefaultValidatorTimeout)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := wasm.New(ctx, wasm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close(ctx) })
	states, err := state.Open(n.db)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := chain.New(chain.Options{
		DB: n.db, State: states, Catalog: program.NewCatalog(n.db, chain.BlobCode{Blobs: n.blobs}),
		Blobs: n.blobs, Runtime: rt, Keys: keys, Validators: vals.Live, Outbox: out,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close() })
	if n.r, err = New(Options{DB: n.db, Blobs: n.blobs, Keys: keys, Chain: eng, Validators: vals, Outgoing: out, SyncMode: SyncMetadata}); err != nil {
		t.Fatal(err)
	}
	if n.d, err = dag.Open(ctx, dag.Config{DB: n.db, Registry: n.r.Registry(), Key: keys.Ed25519, Outbox: n.box}); err != nil {
		t.Fatal(err)
	}
	h, err := p2p.NewNetworkHost(p2p.NetworkHostConfig{Key: keys.Ed25519, Listen: []string{"/ip4/127.0.0.1/tcp/0"}, DisableNATTraversal: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	net, err := p2p.New(ctx, h, n.d, n.blobs, p2p.Config{Exec: p2p.ExecConfig{Allow: n.r.IsValidator}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = net.Close() })
	if cfg.Slot == 0 {
		cfg.Slot = 20 * time.Millisecond
	}
	cfg.Announce = net.Announce
	if n.prop, err = dag.NewProposer(n.d, cfg); err != nil {
		t.Fatal(err)
	}
	n.r.Attach(n.d, net, n.prop)
	t.Cleanup(func() { _ = n.r.Close() }) // first: proposer and workers
	return n
}

// ownOps returns the operations of kind k in this node's own vertices.
func (n *testNode) ownOps(t *testing.T, k dag.Kind) []dag.Op {
	t.Helper()
	vs, err := n.d.ByAuthor(n.r.Self(), 1, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var out []dag.Op
	for _, v := range vs {
		for _, o := range v.Ops {
			if o.Kind == k {
				out = append(out, o)
			}
		}
	}
	return out
}
