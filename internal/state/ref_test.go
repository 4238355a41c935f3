package state

import (
	"bytes"
	"sort"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/onvm-network/onvm/internal/id"
)

// refTree is the tree exactly as notes §6.3 define it, rebuilt from the
// whole key set with id.Sum (the generic BLAKE3), independent of everything
// the store does: the reference the incremental tree is checked against.
type refTree map[string][]byte

type refLeaf struct{ kh, lh id.Hash }

func (m refTree) leaves() []refLeaf {
	ls := make([]refLeaf, 0, len(m))
	for k, v := range m {
		kh := id.Sum([]byte(k))
		ls = append(ls, refLeaf{kh, id.Sum([]byte("leaf"), kh[:], id.Sum(v).Bytes())})
	}
	sort.Slice(ls, func(i, j int) bool { return bytes.Compare(ls[i].kh[:], ls[j].kh[:]) < 0 })
	return ls
}

func refNode(l, r id.Hash) id.Hash { return id.Sum([]byte("node"), l[:], r[:]) }

func refBuild(level int, ls []refLeaf) id.Hash {
	if len(ls) == 0 {
		return EmptyRoot
	}
	if level == Depth {
		return ls[0].lh
	}
	cut := sort.Search(len(ls), func(i int) bool { return bit(&ls[i].kh, level) == 1 })
	return refNode(refBuild(level+1, ls[:cut]), refBuild(level+1, ls[cut:]))
}

func (m refTree) root() id.Hash { return refBuild(0, m.leaves()) }

// proof returns the 256 siblings for key, leaf level first.
func (m refTree) proof(key []byte) []id.Hash {
	ls := m.leaves()
	kh := id.Sum(key)
	sib := make([]id.Hash, Depth)
	for d := 0; d < Depth; d++ {
		cut := sort.Search(len(ls), func(i int) bool { return bit(&ls[i].kh, d) == 1 })
		left, right := ls[:cut], ls[cut:]
		if bit(&kh, d) == 0 {
			sib[Depth-1-d], ls = refBuild(d+1, right), left
		} else {
			sib[Depth-1-d], ls = refBuild(d+1, left), right
		}
	}
	return sib
}

func (m refTree) apply(ws []Write) {
	for _, w := range ws {
		if w.Delete {
			delete(m, string(w.Key))
		} else {
			m[string(w.Key)] = append([]byte{}, w.Value...)
		}
	}
}

// newTestStore opens a Store over an in-memory pebble database.
func newTestStore(tb testing.TB) (*Store, *pebble.DB) {
	tb.Helper()
	return newTestStoreWith(tb, Options{})
}

func newTestStoreWith(tb testing.TB, o Options) (*Store, *pebble.DB) {
	tb.Helper()
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	s, err := OpenWith(db, o)
	if err != nil {
		tb.Fatal(err)
	}
	return s, db
}

// commit applies writes in their own batch and commits it.
func commit(tb testing.TB, s *Store, db *pebble.DB, p id.Program, ws []Write) id.Hash {
	tb.Helper()
	root, err := s.Root(p)
	if err != nil {
		tb.Fatal(err)
	}
	b := db.NewIndexedBatch()
	defer b.Close()
	nr, err := s.Apply(b, p, root, ws)
	if err != nil {
		tb.Fatal(err)
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		tb.Fatal(err)
	}
	return nr
}
