package state

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/onvm-network/onvm/internal/id"
)

// keyPool returns n random keys plus groups of keys whose hashes share at
// least 16 leading bits, so that trees get deep branches and long shared
// paths, not only the shallow ones random keys give.
func keyPool(r *rand.Rand, n int) [][]byte {
	var keys [][]byte
	for i := 0; i < n; i++ {
		k := make([]byte, r.IntN(12))
		for j := range k {
			k[j] = byte(r.IntN(256))
		}
		keys = append(keys, k)
	}
	byPrefix := map[[2]byte][][]byte{}
	base := r.Uint64()
	for i := 0; len(keys) < 2*n && i < 1<<18; i++ {
		k := fmt.Appendf(nil, "deep-%d-%d", base, i)
		kh := keyHash(k)
		pre := [2]byte{kh[0], kh[1]}
		if g := byPrefix[pre]; len(g) > 0 && len(g) < 3 {
			if len(g) == 1 {
				keys = append(keys, g[0])
			}
			keys = append(keys, k)
		}
		byPrefix[pre] = append(byPrefix[pre], k)
	}
	return keys
}

func randomWrites(r *rand.Rand, pool [][]byte, ref refTree) []Write {
	n := r.IntN(6)
	if r.IntN(8) == 0 {
		n = 20 + r.IntN(40)
	}
	ws := make([]Write, n)
	for i := range ws {
		k := pool[r.IntN(len(pool))]
		switch x := r.IntN(10); {
		case x < 3:
			ws[i] = Write{Key: k, Delete: true}
		case x < 4:
			ws[i] = Write{Key: k} // empty value, still present
		case x < 5:
			ws[i] = Write{Key: k, Value: ref[string(k)]} // often an unchanged value
		default:
			ws[i] = Write{Key: k, Value: fmt.Appendf(nil, "v%d", r.IntN(1000))}
		}
	}
	return ws
}

// TestIncrementalMatchesRebuild drives the store with random transitions
// (puts, overwrites, deletes, empty values, repeated keys, deletes of absent
// keys) and checks after each one that the incremental root, the preview
// root and a full rebuild by the reference agree, that Get/List agree with
// the reference map, and that proofs at the current root and at older roots
// are the reference's siblings, verify, and fail when tampered with.
func TestIncrementalMatchesRebuild(t *testing.T) {
	seeds, steps := 8, 25
	if testing.Short() {
		seeds = 2
	}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(seed), 7))
			// Odd seeds run without the record cache, so that every
			// record is decoded from the database; seeds 2 and 3 mod 4
			// hash without the AVX-512 lanes.
			s, db := newTestStoreWith(t, Options{CacheBytes: int64(-seed % 2)})
			if seed%4 >= 2 {
				withoutLanes(t)
			}
			p := id.Program(id.Sum(fmt.Appendf(nil, "prog%d", seed)))
			pool := keyPool(r, 24)
			ref := refTree{}
			type snap struct {
				root id.Hash
				ref  refTree
			}
			history := []snap{{EmptyRoot, refTree{}}}
			for step := range steps {
				ws := randomWrites(r, pool, ref)
				preview, err := s.RootWith(p, ws)
				if err != nil {
					t.Fatal(err)
				}
				got := commit(t, s, db, p, ws)
				ref.apply(ws)
				want := ref.root()
				if got != want || preview != want {
					t.Fatalf("step %d: Apply root %s, RootWith %s, rebuild %s", step, got, preview, want)
				}
				history = append(history, snap{got, maps(ref)})
				checkFlat(t, s, p, ref)
				for range 2 {
					h := history[len(history)-1]
					if r.IntN(2) == 0 {
						h = history[r.IntN(len(history))]
					}
					checkProof(t, s, p, h.root, h.ref, pool[r.IntN(len(pool))])
				}
			}
		})
	}
}

func maps(m refTree) refTree {
	c := refTree{}
	for k, v := range m {
		c[k] = v
	}
	return c
}

func checkFlat(t *testing.T, s *Store, p id.Program, ref refTree) {
	t.Helper()
	want := make([][]byte, 0, len(ref))
	for k, v := range ref {
		want = append(want, []byte(k))
		got, ok, err := s.Get(p, []byte(k))
		if err != nil || !ok || !bytes.Equal(got, v) {
			t.Fatalf("Get(%x) = %x, %v, %v; want %x", k, got, ok, err, v)
		}
	}
	slices.SortFunc(want, bytes.Compare)
	keys, err := s.List(p, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(keys, want, bytes.Equal) {
		t.Fatalf("List = %x, want %x", keys, want)
	}
}

// checkProof proves key at root and checks the proof against the reference
// map that root commits to, then tampers with it.
func checkProof(t *testing.T, s *Store, p id.Program, root id.Hash, ref refTree, key []byte) {
	t.Helper()
	pr, err := s.Prove(p, root, key)
	if err != nil {
		t.Fatal(err)
	}
	v, present := ref[string(key)]
	if pr.Present != present || !bytes.Equal(pr.Value, v) {
		t.Fatalf("Prove(%x) present %v value %x; want %v %x", key, pr.Present, pr.Value, present, v)
	}
	if want := ref.proof(key); !slices.Equal(pr.Siblings[:], want) {
		t.Fatalf("Prove(%x) siblings differ from the reference", key)
	}
	if err := pr.Verify(); err != nil {
		t.Fatalf("proof of %x does not verify: %v", key, err)
	}
	checkTampered(t, pr)
}

// checkTampered asserts that changing a valid proof's root, presence,
// siblings or length, or a membership proof's key or value, makes it fail.
func checkTampered(t *testing.T, pr *Proof) {
	t.Helper()
	sibs := pr.Siblings[:]
	fails := func(what string, root id.Hash, key, value []byte, present bool, sibs []id.Hash) {
		t.Helper()
		if err := Verify(root, key, value, present, sibs); err == nil {
			t.Fatalf("tampered proof (%s) of key %x verifies", what, pr.Key)
		}
	}
	root := pr.Root
	root[3] ^= 1
	fails("root", root, pr.Key, pr.Value, pr.Present, sibs)
	fails("presence", pr.Root, pr.Key, pr.Value, !pr.Present, sibs)
	if pr.Present {
		// (A non-membership proof also proves the absence of other absent
		// keys along the same path, so only a membership proof is bound to
		// its key.)
		fails("key", pr.Root, append(bytes.Clone(pr.Key), 0), pr.Value, true, sibs)
		fails("value", pr.Root, pr.Key, append(bytes.Clone(pr.Value), 'x'), true, sibs)
	}
	for _, i := range []int{0, 100, 200, 250, 255} {
		bad := slices.Clone(sibs)
		bad[i][0] ^= 0x80
		fails(fmt.Sprint("sibling ", i), pr.Root, pr.Key, pr.Value, pr.Present, bad)
	}
	fails("short", pr.Root, pr.Key, pr.Value, pr.Present, sibs[1:])
}

// withoutLanes makes the test hash one node at a time.
func withoutLanes(t *testing.T) {
	saved := haveLanes
	haveLanes = false
	t.Cleanup(func() { haveLanes = saved })
}

// TestLargeBatch applies transitions big enough to hash on both cores, with
// and without lanes, and checks them against the reference.
func TestLargeBatch(t *testing.T) {
	for _, lanes := range []bool{true, false} {
		t.Run(fmt.Sprint("lanes=", lanes), func(t *testing.T) {
			if !lanes {
				withoutLanes(t)
			}
			s, db := newTestStore(t)
			p := prog("big")
			ref := refTree{}
			for round := range 2 {
				var ws []Write
				for i := range 1500 {
					k := fmt.Appendf(nil, "k%d", i*(round+1))
					if i%10 == 9 {
						ws = append(ws, Write{Key: k, Delete: true})
					} else {
						ws = append(ws, Write{Key: k, Value: fmt.Appendf(nil, "%d-%d", i, round)})
					}
				}
				got := commit(t, s, db, p, ws)
				ref.apply(ws)
				if want := ref.root(); got != want {
					t.Fatalf("round %d: root %s, want %s", round, got, want)
				}
			}
		})
	}
}
