package state

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/onvm-network/onvm/internal/id"
)

func prog(name string) id.Program { return id.Program(id.Sum([]byte(name))) }

func puts(kv ...string) []Write {
	var ws []Write
	for i := 0; i+1 < len(kv); i += 2 {
		ws = append(ws, Write{Key: []byte(kv[i]), Value: []byte(kv[i+1])})
	}
	return ws
}

// snapshot is everything a reader can observe of one program.
func snapshot(t *testing.T, s *Store, p id.Program, keys ...string) string {
	t.Helper()
	root, err := s.Root(p)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "root %s\n", root)
	list, err := s.List(p, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "keys %q\n", list)
	for _, k := range keys {
		v, ok, err := s.Get(p, []byte(k))
		if err != nil {
			t.Fatal(err)
		}
		pr, err := s.Prove(p, root, []byte(k))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s=%q %v proof %v\n", k, v, ok, pr.Present)
	}
	return b.String()
}

func TestApplyWrongRootStagesNothing(t *testing.T) {
	s, db := newTestStore(t)
	p := prog("p")
	r1 := commit(t, s, db, p, puts("a", "1"))
	before := snapshot(t, s, p, "a", "b")
	for _, indexed := range []bool{true, false} {
		b := db.NewBatch()
		if indexed {
			b = db.NewIndexedBatch()
		}
		_, err := s.Apply(b, p, EmptyRoot, puts("b", "2"))
		if !errors.Is(err, ErrRootMismatch) {
			t.Fatalf("Apply with a stale root: %v, want ErrRootMismatch", err)
		}
		if !b.Empty() {
			t.Fatalf("failed Apply staged %d records", b.Count())
		}
		if err := b.Commit(pebble.NoSync); err != nil {
			t.Fatal(err)
		}
	}
	if after := snapshot(t, s, p, "a", "b"); after != before {
		t.Fatalf("state changed:\n%s\nwas\n%s", after, before)
	}
	if got, _ := s.Root(p); got != r1 {
		t.Fatalf("root %s, want %s", got, r1)
	}
}

func TestDiscardedBatchChangesNothing(t *testing.T) {
	s, db := newTestStore(t)
	p := prog("p")
	r1 := commit(t, s, db, p, puts("a", "1", "b", "2"))
	before := snapshot(t, s, p, "a", "b", "c")

	b := db.NewIndexedBatch()
	r2, err := s.Apply(b, p, r1, append(puts("c", "3"), Write{Key: []byte("a"), Delete: true}))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil { // discard
		t.Fatal(err)
	}
	if after := snapshot(t, s, p, "a", "b", "c"); after != before {
		t.Fatalf("discarded batch is visible:\n%s\nwas\n%s", after, before)
	}
	if _, err := s.Prove(p, r2, []byte("c")); !errors.Is(err, ErrUnknownRoot) {
		t.Fatalf("Prove at a discarded root: %v, want ErrUnknownRoot", err)
	}
	// The same transition still applies, and to the same root.
	if got := commit(t, s, db, p, append(puts("c", "3"), Write{Key: []byte("a"), Delete: true})); got != r2 {
		t.Fatalf("root after re-applying %s, want %s", got, r2)
	}
}

func TestSeveralAppliesInOneBatch(t *testing.T) {
	s, db := newTestStore(t)
	p, q := prog("p"), prog("q")
	ref := refTree{}
	b := db.NewIndexedBatch()
	defer b.Close()
	root := EmptyRoot
	for i := range 5 {
		ws := puts(fmt.Sprint("k", i), "v", "shared", fmt.Sprint(i))
		var err error
		if root, err = s.Apply(b, p, root, ws); err != nil {
			t.Fatalf("Apply %d in one batch: %v", i, err)
		}
		ref.apply(ws)
	}
	qRoot, err := s.Apply(b, q, EmptyRoot, puts("x", "y"))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Root(p); got != EmptyRoot {
		t.Fatalf("uncommitted root visible: %s", got)
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Root(p); got != root || root != ref.root() {
		t.Fatalf("root %s, Apply said %s, reference %s", got, root, ref.root())
	}
	if got, _ := s.Root(q); got != qRoot || qRoot != (refTree{"x": []byte("y")}).root() {
		t.Fatalf("other program's root %s, want %s", got, qRoot)
	}
}

func TestUnindexedBatch(t *testing.T) {
	s, db := newTestStore(t)
	p := prog("p")
	b := db.NewBatch()
	r1, err := s.Apply(b, p, EmptyRoot, puts("a", "1"))
	if err != nil {
		t.Fatal(err)
	}
	// Without an index the batch's own writes are invisible, so a second
	// transition of p in it is refused rather than computed on stale state.
	if _, err := s.Apply(b, p, r1, puts("b", "2")); !errors.Is(err, ErrRootMismatch) {
		t.Fatalf("second Apply in an unindexed batch: %v, want ErrRootMismatch", err)
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Root(p); got != r1 {
		t.Fatalf("root %s, want %s", got, r1)
	}
}

func TestHistoricalRootsStayProvable(t *testing.T) {
	s, db := newTestStore(t)
	p := prog("p")
	ref := refTree{}
	var roots []id.Hash
	var refs []refTree
	for i := range 20 {
		ws := puts(fmt.Sprint("k", i%7), fmt.Sprint(i))
		if i%5 == 4 {
			ws = []Write{{Key: []byte(fmt.Sprint("k", i%3)), Delete: true}}
		}
		roots = append(roots, commit(t, s, db, p, ws))
		ref.apply(ws)
		refs = append(refs, maps(ref))
	}
	for i, root := range roots {
		for k := range 8 {
			checkProof(t, s, p, root, refs[i], []byte(fmt.Sprint("k", k)))
		}
	}
	if _, err := s.Prove(p, id.Sum([]byte("nope")), []byte("k1")); !errors.Is(err, ErrUnknownRoot) {
		t.Fatalf("Prove at an unknown root: %v", err)
	}
	if _, err := s.Prove(prog("other"), roots[3], []byte("k1")); !errors.Is(err, ErrUnknownRoot) {
		t.Fatalf("Prove at another program's root: %v", err)
	}
}

func TestConcurrentProgramsApply(t *testing.T) {
	s, db := newTestStore(t)
	const programs, rounds = 6, 15
	var wg sync.WaitGroup
	errs := make(chan error, programs)
	for g := range programs {
		wg.Go(func() {
			p := prog(fmt.Sprint("p", g))
			ref := refTree{}
			root := EmptyRoot
			for i := range rounds {
				ws := puts(fmt.Sprint("k", i%4), fmt.Sprint(g, i), fmt.Sprint("x", i), "")
				b := db.NewIndexedBatch()
				nr, err := s.Apply(b, p, root, ws)
				if err == nil {
					err = b.Commit(pebble.NoSync)
				}
				_ = b.Close()
				if err != nil {
					errs <- err
					return
				}
				ref.apply(ws)
				if want := ref.root(); nr != want {
					errs <- fmt.Errorf("program %d round %d: root %s, want %s", g, i, nr, want)
					return
				}
				if _, err := s.Prove(p, nr, []byte("k1")); err != nil {
					errs <- err
					return
				}
				root = nr
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestListAndEntries(t *testing.T) {
	s, db := newTestStore(t)
	p, q := prog("p"), prog("q")
	commit(t, s, db, p, puts("b/2", "x", "a", "1", "b/1", "", "b/10", "y", "c", "z", "\xff", "ff"))
	commit(t, s, db, q, puts("b/0", "other program"))
	tests := []struct {
		prefix string
		limit  int
		want   []string
	}{
		{"", 0, []string{"a", "b/1", "b/10", "b/2", "c", "\xff"}},
		{"b/", 0, []string{"b/1", "b/10", "b/2"}},
		{"b/", 2, []string{"b/1", "b/10"}},
		{"b/1", 0, []string{"b/1", "b/10"}},
		{"\xff", 0, []string{"\xff"}},
		{"d", 0, nil},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q/%d", tc.prefix, tc.limit), func(t *testing.T) {
			got, err := s.List(p, []byte(tc.prefix), tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			var want [][]byte
			for _, k := range tc.want {
				want = append(want, []byte(k))
			}
			if !slices.EqualFunc(got, want, bytes.Equal) {
				t.Fatalf("List = %q, want %q", got, want)
			}
		})
	}
	var seen []string
	err := s.Entries(p, []byte("b/10"), func(k, v []byte) bool {
		seen = append(seen, string(k)+"="+string(v))
		return len(seen) < 3
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"b/10=y", "b/2=x", "c=z"}; !slices.Equal(seen, want) {
		t.Fatalf("Entries = %q, want %q", seen, want)
	}
	if v, ok, err := s.Get(p, []byte("b/1")); err != nil || !ok || v == nil || len(v) != 0 {
		t.Fatalf("Get of an empty value = %q, %v, %v; want present and empty", v, ok, err)
	}
	if _, ok, err := s.Get(p, []byte("b/0")); err != nil || ok {
		t.Fatalf("Get of another program's key = %v, %v", ok, err)
	}
}

func TestOpenChecksFormat(t *testing.T) {
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := Open(db); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(db); err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if err := db.Set([]byte(keyFormat), []byte{99}, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(db); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open of another format: %v, want ErrCorrupt", err)
	}
}

func TestWriteDigest(t *testing.T) {
	a := []Write{{Key: []byte("b"), Value: []byte("2")}, {Key: []byte("a"), Value: nil}, {Key: []byte("c"), Delete: true, Value: []byte("ignored")}}
	b := []Write{{Key: []byte("c"), Delete: true}, {Key: []byte("a"), Value: []byte{}}, {Key: []byte("b"), Value: []byte("1")}, {Key: []byte("b"), Value: []byte("2")}}
	if WriteDigest(a) != WriteDigest(b) {
		t.Fatal("digest depends on order, nil versus empty, a delete's value or overwritten writes")
	}
	tests := []struct {
		name string
		ws   []Write
	}{
		{"value", []Write{{Key: []byte("b"), Value: []byte("3")}, {Key: []byte("a")}, {Key: []byte("c"), Delete: true}}},
		{"delete", []Write{{Key: []byte("b"), Value: []byte("2")}, {Key: []byte("a")}, {Key: []byte("c")}}},
		{"key", []Write{{Key: []byte("b"), Value: []byte("2")}, {Key: []byte("a")}}},
	}
	for _, tc := range tests {
		if WriteDigest(tc.ws) == WriteDigest(a) {
			t.Errorf("%s: digest unchanged", tc.name)
		}
	}
	// The encoding is pinned: [[h'61', h'', false], [h'62', h'32', false], [h'63', h'', true]].
	want := id.Sum([]byte("\x83\x83\x41a\x40\xf4\x83\x41b\x41\x32\xf4\x83\x41c\x40\xf5"))
	if got := WriteDigest(a); got != want {
		t.Fatalf("WriteDigest = %s, want %s", got, want)
	}
}
