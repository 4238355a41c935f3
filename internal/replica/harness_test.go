package replica

import (
	"bytes"
	"context"
	"os"
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
	keys  *identity.Keys
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
	n := newBareNode(t, i, nil, nil)
	h, err := p2p.NewNetworkHost(p2p.NetworkHostConfig{Key: n.keys.Ed25519, Listen: []string{"/ip4/127.0.0.1/tcp/0"}, DisableNATTraversal: true})
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

// newBareNode wires node i's stores, chain engine (one-member committees,
// as the node configures it), replica and DAG, without a network: its
// handlers run as dag.Open's re-drive runs them, and nothing runs in the
// background. rt is the wasm runtime to share; nil makes one. now, when
// set, is the clock of the DAG and the engine, and every registered
// validator stays live.
func newBareNode(t *testing.T, i int, rt *wasm.Runtime, now func() time.Time) *testNode {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	n := &testNode{db: dagtest.DB(t)}
	sk, err := bls.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{byte(i + 1)}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	n.keys = &identity.Keys{Ed25519: dagtest.Key(i), BLS: sk}
	if n.box, err = dag.NewOutbox(n.db, op.Registry(), n.keys.Node()); err != nil {
		t.Fatal(err)
	}
	out := NewOutgoing(n.box, n.keys.Node(), nil)
	if n.blobs, err = blob.Open(blob.Options{Dir: filepath.Join(memDir(t), "blobs"), DB: n.db, OnComplete: out.StageBlob}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.blobs.Close() })
	timeout := DefaultValidatorTimeout
	if now != nil {
		timeout = 0
	}
	vals, err := OpenValidators(n.db, SelfValidator(n.keys), timeout)
	if err != nil {
		t.Fatal(err)
	}
	if rt == nil {
		if rt, err = wasm.New(ctx, wasm.Config{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rt.Close(ctx) })
	}
	states, err := state.Open(n.db)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := chain.New(chain.Options{
		DB: n.db, State: states, Catalog: program.NewCatalog(n.db, chain.BlobCode{Blobs: n.blobs}),
		Blobs: n.blobs, Runtime: rt, Keys: n.keys, Validators: vals.Live, CommitteeSize: 1, Outbox: out, Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close() })
	if n.r, err = New(Options{DB: n.db, Blobs: n.blobs, Keys: n.keys, Chain: eng, Validators: vals, Outgoing: out, SyncMode: SyncMetadata}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.r.Close() })
	if n.d, err = dag.Open(ctx, dag.Config{DB: n.db, Registry: n.r.Registry(), Key: n.keys.Ed25519, Outbox: n.box, Now: now}); err != nil {
		t.Fatal(err)
	}
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

// memDir returns a temporary directory on a memory file system when the
// machine has one (Linux's /dev/shm), else t.TempDir(): the blob store
// syncs every file it writes, which on a busy disk costs more than all
// the rest of a simulated node's work.
func memDir(t *testing.T) string {
	t.Helper()
	if fi, err := os.Stat("/dev/shm"); err != nil || !fi.IsDir() {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("/dev/shm", "onvm-replica-test-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}
