package p2p

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/dagtest"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
)

// craft builds and signs, without storing it, node i's next vertex
// carrying ops: what a Byzantine node sends that its own DAG would refuse.
func (c *cluster) craft(i int, seqOffset uint64, ops ...dag.Op) *dag.Vertex {
	c.t.Helper()
	nd := c.nodes[i]
	self := dagtest.Node(nd.key)
	seq := nd.d.VersionVector()[self] + 1 + seqOffset
	var parents, others []id.Hash
	if seq > 1 {
		vs, err := nd.d.ByAuthor(self, seq-1, 1)
		if err != nil || len(vs) == 0 {
			c.t.Fatalf("craft: previous vertex: %v", err)
		}
		parents = append(parents, vs[0].ID())
	}
	for _, h := range nd.d.Heads() {
		if h != parents[0] {
			others = append(others, h)
		}
	}
	parents = append(parents, sortedIDs(others)...)
	v := &dag.Vertex{Author: self, Seq: seq, Parents: parents, Ops: ops, Timestamp: time.Now().UnixMilli()}
	if err := v.Sign(nd.key); err != nil {
		c.t.Fatal(err)
	}
	return v
}

// publishRaw gossips arbitrary bytes on the vertex topic from node i.
func (c *cluster) publishRaw(i int, b []byte) {
	c.t.Helper()
	if err := c.nodes[i].net.gossip.dagTopic.Publish(context.Background(), b); err != nil {
		c.t.Fatalf("publish: %v", err)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// honest returns the indexes of the nodes other than the attacker.
func honest(n, evil int) []int {
	var out []int
	for i := range n {
		if i != evil {
			out = append(out, i)
		}
	}
	return out
}

// TestByzantineInputs feeds invalid data through gossip from one node to
// a fully connected cluster: every honest node rejects it, counts it under
// the right reason, lowers the sender's score where a handler refused it,
// and the honest nodes still converge.
func TestByzantineInputs(t *testing.T) {
	const n, evil = 4, 3
	c := newCluster(t, n, fastConfig())
	for i := range n {
		for j := i + 1; j < n; j++ {
			c.connect(i, j)
		}
	}
	vs := dagtest.Validators(t, 3)
	m := dagtest.Manifest(t, dagtest.Key(0), vs, "byzantine") // deployed by node 0, its author
	deploy, err := op.ProgramDeployed(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.nodes[0].d.Propose(context.Background(), []dag.Op{deploy}); err != nil {
		t.Fatal(err)
	}
	base := 1 + c.proposeConcurrently(1, seq(0, n)...)
	c.nodes[0].net.syncer.Trigger(c.nodes[1].h.ID()) // the deploy was not gossiped
	for _, i := range honest(n, evil) {
		for _, j := range honest(n, evil) {
			if i != j {
				c.nodes[i].net.syncer.Trigger(c.nodes[j].h.ID())
			}
		}
	}
	c.waitConverged(30*time.Second, base)

	rejected := func(r dag.Reason) func() bool {
		return func() bool {
			for _, i := range honest(n, evil) {
				if c.nodes[i].d.Stats().Rejected[r] == 0 {
					return false
				}
			}
			return true
		}
	}

	// A vertex whose signature does not verify.
	forged := bytes.Clone(c.craft(evil, 0, dagtest.Op([]byte("forged"))).Raw())
	forged[len(forged)-1] ^= 1
	c.publishRaw(evil, forged)
	waitFor(t, 10*time.Second, "forged signatures rejected", rejected(dag.ReasonSignature))

	// A manifest whose deployer signature is bad.
	bad := *m
	bad.Signature = bytes.Clone(m.Signature)
	bad.Signature[5] ^= 1
	c.publishRaw(evil, c.craft(evil, 0, dag.Op{Kind: op.KindProgramDeployed, Body: bad.Encode()}).Raw())
	waitFor(t, 10*time.Second, "bad manifests rejected", rejected(dag.ReasonInvalidOp))

	// Oversize.
	c.publishRaw(evil, make([]byte, dag.MaxVertexSize+1))
	waitFor(t, 10*time.Second, "oversize vertices rejected", rejected(dag.ReasonTooLarge))

	// A transition whose aggregate signature is bad: only the handler,
	// which knows the committee, can tell.
	tr := dagtest.Transition(t, m, vs, 1)
	tr.Receipt.Certificate.Signature = dagtest.Transition(t, m, vs, 2).Receipt.Certificate.Signature
	trOp, err := tr.Op()
	if err != nil {
		t.Fatal(err)
	}
	c.publishRaw(evil, c.craft(evil, 0, trOp).Raw())
	// The vertex is kept (as evidence) and the operation refused.
	waitFor(t, 10*time.Second, "bad transitions refused", func() bool {
		for _, i := range honest(n, evil) {
			if c.nodes[i].d.Stats().RefusedOps["transition"] == 0 {
				return false
			}
		}
		return true
	})
	for _, i := range honest(n, evil) {
		if s := c.nodes[i].net.Scores().Score(c.nodes[evil].h.ID()); s >= 0 {
			t.Errorf("node %d still scores the attacker %v", i, s)
		}
	}

	// None of it was accepted anywhere, and honest work goes on.
	more := c.proposeConcurrently(2, honest(n, evil)...)
	c.waitConverged(30*time.Second, base+more, honest(n, evil)...)
}

// TestEquivocationOverNetwork has a node sign two vertices with one
// sequence and gossip both: every node keeps both, flags the author, and
// all converge on the same state.
func TestEquivocationOverNetwork(t *testing.T) {
	const n, evil = 4, 0
	c := newCluster(t, n, fastConfig())
	c.meshTopology(1, 9)
	base := c.proposeConcurrently(1, seq(0, n)...)
	c.waitConverged(30*time.Second, base)
	x := c.craft(evil, 0, dagtest.Op([]byte("left")))
	y := c.craft(evil, 0, dagtest.Op([]byte("right")))
	c.publishRaw(evil, x.Raw())
	c.publishRaw(evil, y.Raw())
	c.waitConverged(30*time.Second, base+2, seq(1, n)...)
	for _, i := range seq(1, n) {
		flags := c.nodes[i].d.Flagged()
		if len(flags) != 1 || flags[0].Author != dagtest.Node(c.nodes[evil].key) {
			t.Fatalf("node %d flagged %+v", i, flags)
		}
		ev, err := c.nodes[i].d.Equivocations(10)
		if err != nil || len(ev) != 1 || len(ev[0].Vertices) != 2 {
			t.Fatalf("node %d evidence %+v %v", i, ev, err)
		}
	}
	// A node that saw neither gets both by sync (the version vector alone
	// cannot name the second one; heads and missing parents do).
	late := c.add()
	c.connect(late.i, 1)
	c.waitConverged(30*time.Second, base+2, 1, 2, 3, late.i)
	if len(late.d.Flagged()) != 1 {
		t.Fatal("late node did not learn of the equivocation")
	}
}

// TestSyncRejectsOversizeAndGarbage points a node's sync at a peer that
// answers with an oversize frame, then with garbage: both sessions fail,
// the peer is penalised, nothing is stored.
func TestSyncRejectsOversizeAndGarbage(t *testing.T) {
	c := newCluster(t, 2, Config{Discovery: DiscoveryConfig{DisableDHT: true}, Sync: SyncConfig{Interval: time.Hour}})
	c.connect(0, 1)
	evil := c.nodes[1]
	tests := []struct {
		name   string
		answer []byte
	}{
		{"oversize frame", binary.AppendUvarint(nil, maxSyncResponse+1)},
		{"garbage", append(binary.AppendUvarint(nil, 3), 0xff, 0x00, 0x13)},
		{"non-canonical", func() []byte {
			b := append(codec.MustMarshal(&syncResp{Done: true}), 0)
			return append(binary.AppendUvarint(nil, uint64(len(b))), b...)
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evil.h.Host.SetStreamHandler(SyncProtocol, func(s network.Stream) {
				defer s.Close()
				var req syncReq
				if err := readMsg(bufio.NewReader(s), maxSyncRequest, &req); err != nil {
					return
				}
				_, _ = s.Write(tt.answer)
			})
			before := c.nodes[0].net.Scores().Score(evil.h.ID())
			err := c.nodes[0].net.syncer.SyncWith(context.Background(), evil.h.ID())
			if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrProtocol) {
				t.Fatalf("SyncWith = %v", err)
			}
			if after := c.nodes[0].net.Scores().Score(evil.h.ID()); after >= before {
				t.Fatalf("score %v → %v", before, after)
			}
		})
	}
	if c.nodes[0].d.Len() != 0 {
		t.Fatal("stored something")
	}
}
