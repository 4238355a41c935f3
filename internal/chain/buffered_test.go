package chain

import "testing"

// TestBufferedCounted: transitions that arrive ahead of their
// predecessors are counted, with the first one named, until the
// predecessors arrive and they apply.
func TestBufferedCounted(t *testing.T) {
	a, p, ts := kvHistory(t)
	b := replicaOf(t, a, p)
	if n, _, _, err := b.engine.Buffered(); err != nil || n != 0 {
		t.Fatalf("buffered %d on a fresh replica: %v", n, err)
	}
	for _, tr := range ts[2:4] {
		if st, err := b.engine.ApplyFinalized(t.Context(), tr); err != nil || !st.Buffered {
			t.Fatalf("height %d: %+v %v, want buffered", tr.Receipt.Receipt.Height, st, err)
		}
	}
	n, first, height, err := b.engine.Buffered()
	if err != nil || n != 2 || first != p || height != 3 {
		t.Fatalf("buffered %d, first %s height %d, %v: want 2, %s height 3", n, first, height, err, p)
	}
	for _, tr := range ts[:2] {
		if _, err := b.engine.ApplyFinalized(t.Context(), tr); err != nil {
			t.Fatal(err)
		}
	}
	if n, _, _, err := b.engine.Buffered(); err != nil || n != 0 {
		t.Fatalf("buffered %d after the predecessors arrived: %v", n, err)
	}
}
