package replica

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
)

// storeDirect stores data in n's blob store without publishing it: what a
// crash between Blobs.Put's store and its publish leaves.
func (n *testNode) storeDirect(t *testing.T, data string) id.Blob {
	t.Helper()
	info, _, err := n.blobs.Put(t.Context(), bytes.NewReader([]byte(data)), "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	return info.ID
}

// awaitAnnounced polls n's own vertices until each blob of want has a
// blob_published by n that n's handler applied, or fails at the deadline.
func (n *testNode) awaitAnnounced(t *testing.T, want ...id.Blob) map[id.Blob]int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := map[id.Blob]int{}
		for _, o := range n.ownOps(t, op.KindBlobPublished) {
			bp, err := op.DecodeBlobPublished(o)
			if err != nil {
				t.Fatal(err)
			}
			if bp.Publisher != n.r.Self() {
				t.Fatalf("blob %s announced for %s", bp.Blob, bp.Publisher)
			}
			got[bp.Blob]++
		}
		missing := 0
		for _, b := range want {
			// In a vertex of this node, and applied: the handler recorded it.
			if mine, err := n.r.publishedBy(b, n.r.Self()); got[b] == 0 || err != nil || !mine {
				missing++
			}
		}
		if missing == 0 {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d stored blobs not announced by the deadline (announced: %v)", missing, len(want), got)
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline, not synchronising
	}
}

// TestAnnounceStoredBlobs: blobs stored but never announced (the crash
// window of Blobs.Put) are announced once the replica starts; one that
// this node announced before is not announced again.
func TestAnnounceStoredBlobs(t *testing.T) {
	n := newTestNode(t, 1, dag.ProposerConfig{})
	lost := n.storeDirect(t, "stored, then the node crashed")
	other := n.storeDirect(t, "another one")
	n.r.Start(StartOptions{})
	got := n.awaitAnnounced(t, lost, other)
	if got[lost] != 1 || got[other] != 1 {
		t.Fatalf("announcements %v, want one per blob", got)
	}
	// A second pass (the next start) announces nothing again.
	n.r.announceStored()
	if q := n.prop.Queued(); q != 0 {
		t.Fatalf("a second pass queued %d operations", q)
	}
}

// TestAnnounceStoredBlobsFullQueue: the pass survives a proposer queue
// that is full when it starts: it waits and tries again until every stored
// blob is announced.
func TestAnnounceStoredBlobsFullQueue(t *testing.T) {
	n := newTestNode(t, 2, dag.ProposerConfig{MaxQueue: 2})
	n.r.announceRetry = 20 * time.Millisecond
	var blobs []id.Blob
	for i := range 5 {
		blobs = append(blobs, n.storeDirect(t, fmt.Sprintf("blob %d", i)))
	}
	// Fill the queue before the proposer runs, with announcements of blobs
	// this node does not store.
	for i := range 2 {
		o, err := op.BlobPublished{Blob: id.BlobOf([]byte{byte(i)}), Size: 1, Publisher: n.r.Self()}.Op()
		if err != nil {
			t.Fatal(err)
		}
		if err := n.prop.Submit(o); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.r.publishBlob(mustStat(t, n, blobs[0])); err == nil {
		t.Fatal("the queue is not full")
	}
	n.r.Start(StartOptions{})
	n.awaitAnnounced(t, blobs...)
}

func mustStat(t *testing.T, n *testNode, b id.Blob) blob.Info {
	t.Helper()
	info, err := n.blobs.Stat(t.Context(), b)
	if err != nil {
		t.Fatal(err)
	}
	return info
}
