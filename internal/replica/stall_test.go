package replica

import (
	"encoding/binary"
	"testing"

	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/dagtest"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
)

// TestDeployAndTransitionInOneVertex: a node that deploys a program and
// executes it at once publishes program_deployed and its first transition
// in one vertex. A peer must accept that vertex and the author's next
// ones (replication once stalled on it for good: the transition was
// checked before the manifest beside it was applied), keep the transition
// until the program's code arrives, and refuse — without holding anything
// back — a transition in a later vertex whose signature does not verify.
func TestDeployAndTransitionInOneVertex(t *testing.T) {
	ctx := t.Context()
	n := newTestNode(t, 0, dag.ProposerConfig{})
	author := dagtest.Key(7)
	vs := dagtest.Validators(t, 3)
	m := dagtest.Manifest(t, author, vs, "one vertex")
	deploy := dag.Op{Kind: op.KindProgramDeployed, Body: m.Encode()}
	tr := dagtest.Transition(t, m, vs, 1)
	trOp, err := tr.Op()
	if err != nil {
		t.Fatal(err)
	}
	v1 := dagtest.Sign(t, author, 1, nil, deploy, trOp)

	bad := dagtest.Transition(t, m, vs, 2)
	bad.Receipt.Certificate.Signature = dagtest.Transition(t, m, vs, 3).Receipt.Certificate.Signature
	badOp, err := bad.Op()
	if err != nil {
		t.Fatal(err)
	}
	v2 := dagtest.Sign(t, author, 2, []id.Hash{v1.ID()}, badOp)
	if _, err := n.d.Add(ctx, "peer", v1, v2); err != nil {
		t.Fatal(err)
	}
	if got := n.d.VersionVector()[dagtest.Node(author)]; got != 2 {
		t.Fatalf("author's sequence here is %d, want 2 (pending %d)", got, n.d.Stats().Pending)
	}
	if s := n.d.Stats(); s.Pending != 0 || s.RefusedOps["transition"] != 1 {
		t.Fatalf("pending %d, refused %v: want 0 pending and the bad transition refused", s.Pending, s.RefusedOps)
	}
	// The good transition waits for the program's code (nobody serves it
	// here); the refused one is not kept.
	var waiting []uint64
	if err := scan(n.r.db, programKey(pfxWaiting, m.Body.Program), func(k, _ []byte) (bool, error) {
		waiting = append(waiting, binary.BigEndian.Uint64(k[len(pfxWaiting)+id.Size:]))
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(waiting) != 1 || waiting[0] != 1 {
		t.Fatalf("waiting transitions at heights %v, want [1]", waiting)
	}
}

// TestOrphanTransitionsDropped: a transition of a program the DAG never
// delivered a manifest of is kept (its verdict must not depend on the
// order of concurrent vertices) and dropped by the next sweep, so a
// faulty author cannot make a node keep unbounded data.
func TestOrphanTransitionsDropped(t *testing.T) {
	n := newTestNode(t, 0, dag.ProposerConfig{})
	author := dagtest.Key(7)
	vs := dagtest.Validators(t, 3)
	m := dagtest.Manifest(t, author, vs, "never deployed")
	tr := dagtest.Transition(t, m, vs, 1)
	trOp, err := tr.Op()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.d.Add(t.Context(), "peer", dagtest.Sign(t, author, 1, nil, trOp)); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		c := 0
		if err := scan(n.r.db, programKey(pfxWaiting, m.Body.Program), func(_, _ []byte) (bool, error) { c++; return true, nil }); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if got := count(); got != 1 {
		t.Fatalf("%d transitions kept, want 1", got)
	}
	if err := n.r.sweepWaiting(); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != 0 {
		t.Fatalf("%d orphan transitions after the sweep", got)
	}
}
