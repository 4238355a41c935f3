package state

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/kv"
)

func countPrefix(t *testing.T, db *pebble.DB, prefix []byte) int {
	t.Helper()
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: kv.PrefixEnd(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for it.First(); it.Valid(); it.Next() {
		n++
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPrune(t *testing.T) {
	s, db := newTestStore(t)
	p, other := prog("p"), prog("other")
	otherRoot := commit(t, s, db, other, puts("x", "1", "y", "2"))
	ref := refTree{}
	var roots []id.Hash
	var refs []refTree
	for i := range 30 {
		// Values cycle, so that later versions re-create records that
		// older versions also had.
		ws := puts(fmt.Sprint("k", i%9), fmt.Sprint(i%4), fmt.Sprint("j", i%5), "same")
		if i%7 == 6 {
			ws = append(ws, Write{Key: []byte(fmt.Sprint("k", (i+1)%9)), Delete: true})
		}
		roots = append(roots, commit(t, s, db, p, ws))
		ref.apply(ws)
		refs = append(refs, maps(ref))
	}
	before := countPrefix(t, db, progKey(nsNode, p, nil)) + countPrefix(t, db, progKey(nsLeaf, p, nil))
	keep := []id.Hash{roots[10], roots[27]}
	removed, err := s.Prune(t.Context(), p, keep)
	if err != nil {
		t.Fatal(err)
	}
	after := countPrefix(t, db, progKey(nsNode, p, nil)) + countPrefix(t, db, progKey(nsLeaf, p, nil))
	if removed == 0 || after >= before {
		t.Fatalf("removed %d records (%d → %d)", removed, before, after)
	}
	for i, root := range roots {
		kept := i == 10 || i == 27 || i == len(roots)-1
		_, err := s.Prove(p, root, []byte("k1"))
		if kept != (err == nil) {
			t.Fatalf("root %d (kept %v): Prove error %v", i, kept, err)
		}
		if !kept && !errors.Is(err, ErrUnknownRoot) {
			t.Fatalf("pruned root %d: %v, want ErrUnknownRoot", i, err)
		}
		if kept {
			for k := range 9 {
				checkProof(t, s, p, root, refs[i], []byte(fmt.Sprint("k", k)))
				checkProof(t, s, p, root, refs[i], []byte(fmt.Sprint("j", k)))
			}
		}
	}
	if _, err := s.Prove(other, otherRoot, []byte("x")); err != nil {
		t.Fatalf("other program after prune: %v", err)
	}
	// Transitions continue on the pruned tree, and a second prune with
	// nothing more to drop removes nothing.
	for i := range 10 {
		ws := puts(fmt.Sprint("k", i), fmt.Sprint(i%4))
		got := commit(t, s, db, p, ws)
		ref.apply(ws)
		if got != ref.root() {
			t.Fatalf("after prune: root %s, want %s", got, ref.root())
		}
	}
	if _, err := s.Prune(t.Context(), p, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Prune(t.Context(), p, nil); err != nil || n != 0 {
		t.Fatalf("second prune removed %d, %v", n, err)
	}
	if _, err := s.Prune(t.Context(), p, []id.Hash{roots[3]}); !errors.Is(err, ErrUnknownRoot) {
		t.Fatalf("keeping a pruned root: %v, want ErrUnknownRoot", err)
	}
	checkFlat(t, s, p, ref)
}
