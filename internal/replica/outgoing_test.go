package replica

import (
	"bytes"
	"testing"
	"time"

	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
)

// TestOutgoingBeforeStart: what a node committed before its proposer ran
// (here: a blob stored, as a crash before the next vertex would leave it)
// waits in the outbox and travels once in the node's own vertices after
// Start, with the validator registration; the outbox is then empty.
func TestOutgoingBeforeStart(t *testing.T) {
	n := newTestNode(t, 1, dag.ProposerConfig{})
	stored := map[id.Blob]bool{}
	for _, data := range []string{"first", "second"} {
		info, _, err := n.r.Blobs().Put(t.Context(), bytes.NewReader([]byte(data)), "text/plain")
		if err != nil {
			t.Fatal(err)
		}
		stored[info.ID] = true
	}
	if l, err := n.box.Len(); err != nil || l != 2 {
		t.Fatalf("outbox holds %d (%v) before Start, want 2", l, err)
	}
	n.r.Start(StartOptions{})
	deadline := time.Now().Add(20 * time.Second)
	for {
		blobs, regs := map[id.Blob]int{}, 0
		for _, o := range n.ownOps(t, op.KindBlobPublished) {
			bp, err := op.DecodeBlobPublished(o)
			if err != nil || bp.Publisher != n.r.Self() || !stored[bp.Blob] {
				t.Fatalf("own blob_published %+v (%v)", bp, err)
			}
			blobs[bp.Blob]++
		}
		regs = len(n.ownOps(t, op.KindValidatorRegistered))
		l, err := n.box.Len()
		if err != nil {
			t.Fatal(err)
		}
		if len(blobs) == 2 && regs == 1 && l == 0 {
			for b, c := range blobs {
				if c != 1 {
					t.Fatalf("blob %s announced %d times", b, c)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("by the deadline: blobs announced %v, registrations %d, outbox %d", blobs, regs, l)
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline, not synchronising
	}
}
