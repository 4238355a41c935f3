package blob

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/onvm-network/onvm/internal/id"
)

// source is a blob as a peer would serve it.
type source struct {
	data []byte
	id   id.Blob
	ob   []byte
}

func newSource(size int, seed uint64) source {
	data := randBytes(size, seed)
	b, ob := EncodeOutboard(data)
	return source{data: data, id: b, ob: ob}
}

func (s source) size() int64 { return int64(len(s.data)) }
func (s source) groups() int { return int(Groups(s.size())) }
func (s source) group(i int) []byte {
	lo := int64(i) * GroupSize
	return s.data[lo : lo+int64(groupLen(s.size(), int64(i)))]
}

func (e *env) begin(src source) *Import {
	e.t.Helper()
	imp, err := e.s.BeginImport(e.t.Context(), src.id, src.size(), "application/wasm", src.ob)
	if err != nil {
		e.t.Fatal(err)
	}
	return imp
}

func TestImportOutOfOrder(t *testing.T) {
	for _, size := range []int{0, 1, GroupSize, 9*GroupSize + 1234} {
		e := newEnv(t)
		src := newSource(size, uint64(size))
		imp := e.begin(src)
		if st, err := e.s.Stat(t.Context(), src.id); err != nil || st.Complete || st.Size != src.size() {
			t.Fatalf("size %d: Stat during import: %+v, %v", size, st, err)
		}
		if _, err := e.s.Open(t.Context(), src.id); !errors.Is(err, ErrIncomplete) {
			t.Fatalf("size %d: Open during import: %v", size, err)
		}
		order := rand.New(rand.NewPCG(uint64(size), 1)).Perm(src.groups())
		for k, g := range order {
			if _, err := imp.Commit(t.Context()); !errors.Is(err, ErrIncomplete) {
				t.Fatalf("size %d: Commit with %d groups missing: %v", size, len(order)-k, err)
			}
			if err := imp.WriteGroup(g, src.group(g)); err != nil {
				t.Fatal(err)
			}
			if err := imp.WriteGroup(g, src.group(g)); err != nil { // again: a no-op
				t.Fatal(err)
			}
			want := slices.Clone(order[k+1:])
			slices.Sort(want)
			if got := imp.Missing(); !slices.Equal(got, want) {
				t.Fatalf("size %d: Missing %v, want %v", size, got, want)
			}
		}
		info, err := imp.Commit(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if info.ID != src.id || !info.Complete || info.Size != src.size() || info.MIME != "application/wasm" {
			t.Fatalf("size %d: info %+v", size, info)
		}
		if again, err := imp.Commit(t.Context()); err != nil || again != info {
			t.Errorf("second Commit: %+v, %v", again, err)
		}
		if got, err := e.readAll(src.id); err != nil || !bytes.Equal(got, src.data) {
			t.Fatalf("size %d: read back: %v", size, err)
		}
		if n, total := e.s.Usage(); n != 1 || total != src.size() {
			t.Errorf("usage %d %d", n, total)
		}
		if _, existed, err := e.s.Put(t.Context(), bytes.NewReader(src.data), ""); err != nil || !existed {
			t.Errorf("Put after import: existed %v, %v", existed, err)
		}
	}
}

func TestImportRejectsBadData(t *testing.T) {
	e := newEnv(t)
	src := newSource(3*GroupSize+10, 1)
	imp := e.begin(src)
	defer imp.Abort()
	bad := bytes.Clone(src.group(1))
	bad[100] ^= 1
	cases := []struct {
		name  string
		index int
		data  []byte
	}{
		{"flipped bit", 1, bad},
		{"short", 1, src.group(1)[:10]},
		{"long", 3, append(bytes.Clone(src.group(3)), 0)},
		{"other group's bytes", 2, src.group(1)},
		{"negative index", -1, src.group(0)},
		{"index past end", 4, src.group(0)},
	}
	for _, c := range cases {
		if err := imp.WriteGroup(c.index, c.data); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", c.name, err)
		}
	}
	if got := imp.Missing(); !slices.Equal(got, []int{0, 1, 2, 3}) {
		t.Errorf("Missing %v", got)
	}
	// Nothing was written: the partial file holds only zeros where data goes.
	part, err := os.ReadFile(e.s.partPath(src.id))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsFunc(part[:src.size()], func(r rune) bool { return r != 0 }) {
		t.Error("rejected data reached the partial file")
	}
}

func TestBeginImportRejectsBadOutboard(t *testing.T) {
	e := newEnv(t)
	src := newSource(4*GroupSize, 2)
	flipped := bytes.Clone(src.ob)
	flipped[len(flipped)-1] ^= 0x80
	cases := []struct {
		name string
		size int64
		ob   []byte
	}{
		{"flipped bit", src.size(), flipped},
		{"truncated", src.size(), src.ob[:len(src.ob)-1]},
		{"wrong size", src.size() - 1, src.ob},
		{"negative size", -1, src.ob},
		{"empty", src.size(), nil},
	}
	for _, c := range cases {
		if _, err := e.s.BeginImport(t.Context(), src.id, c.size, "", c.ob); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", c.name, err)
		}
	}
	assertEmpty(t, e)
}

func TestImportResume(t *testing.T) {
	for _, how := range []string{"abort", "reopen"} {
		t.Run(how, func(t *testing.T) {
			e := newEnv(t)
			src := newSource(6*GroupSize+1, 3)
			imp := e.begin(src)
			for _, g := range []int{5, 0, 3} {
				if err := imp.WriteGroup(g, src.group(g)); err != nil {
					t.Fatal(err)
				}
			}
			if how == "abort" {
				if err := imp.Abort(); err != nil {
					t.Fatal(err)
				}
				if err := imp.WriteGroup(1, src.group(1)); !errors.Is(err, ErrClosed) {
					t.Errorf("WriteGroup after Abort: %v", err)
				}
			} else {
				e.reopen(0) // Close aborts the import
			}
			imp = e.begin(src)
			if got := imp.Missing(); !slices.Equal(got, []int{1, 2, 4, 6}) {
				t.Fatalf("resumed Missing %v", got)
			}
			for _, g := range imp.Missing() {
				if err := imp.WriteGroup(g, src.group(g)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := imp.Commit(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got, err := e.readAll(src.id); err != nil || !bytes.Equal(got, src.data) {
				t.Fatalf("read back: %v", err)
			}
			if names := e.files(); len(names) != 1 {
				t.Errorf("files %v", names)
			}
		})
	}
}

// TestImportRepairsCorruption: a damaged blob is set aside; a new import
// reuses its good groups and asks only for the damaged one.
func TestImportRepairsCorruption(t *testing.T) {
	e := newEnv(t)
	src := newSource(4*GroupSize, 4)
	info := e.put(src.data)
	flipStored(t, e, info, 2*GroupSize+9)
	if _, err := e.readAll(src.id); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("read damaged: %v", err)
	}
	imp := e.begin(src)
	if got := imp.Missing(); !slices.Equal(got, []int{2}) {
		t.Fatalf("Missing %v, want [2]", got)
	}
	if err := imp.WriteGroup(2, src.group(2)); err != nil {
		t.Fatal(err)
	}
	if _, err := imp.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, err := e.readAll(src.id); err != nil || !bytes.Equal(got, src.data) {
		t.Fatalf("read repaired: %v", err)
	}
}

func TestImportConcurrent(t *testing.T) {
	e := newEnv(t)
	src := newSource(12*GroupSize+5, 5)
	imp := e.begin(src)
	if _, err := e.s.BeginImport(t.Context(), src.id, src.size(), "", src.ob); !errors.Is(err, ErrBusy) {
		t.Errorf("second BeginImport: %v, want ErrBusy", err)
	}
	if err := e.s.Delete(t.Context(), src.id); !errors.Is(err, ErrBusy) {
		t.Errorf("Delete during import: %v, want ErrBusy", err)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for g := w; g < src.groups(); g += 2 { // every group written twice
				if err := imp.WriteGroup(g, src.group(g)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if _, err := imp.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, err := e.readAll(src.id); err != nil || !bytes.Equal(got, src.data) {
		t.Fatalf("read back: %v", err)
	}
}

// TestImportRacesPut: the same bytes arrive by Put while an import runs; the
// import then commits to the stored blob.
func TestImportRacesPut(t *testing.T) {
	e := newEnv(t)
	src := newSource(2*GroupSize+1, 6)
	imp := e.begin(src)
	if err := imp.WriteGroup(0, src.group(0)); err != nil {
		t.Fatal(err)
	}
	if _, existed, err := e.s.Put(t.Context(), bytes.NewReader(src.data), ""); err != nil || existed {
		t.Fatalf("Put: existed %v, %v", existed, err)
	}
	for _, g := range imp.Missing() {
		if err := imp.WriteGroup(g, src.group(g)); err != nil {
			t.Fatal(err)
		}
	}
	info, err := imp.Commit(t.Context())
	if err != nil || !info.Complete {
		t.Fatalf("Commit: %+v, %v", info, err)
	}
	if names := e.files(); len(names) != 1 {
		t.Errorf("files %v", names)
	}
	if n, _ := e.s.Usage(); n != 1 {
		t.Errorf("usage %d blobs", n)
	}
	// An import of a blob already complete has nothing to do.
	imp = e.begin(src)
	if m := imp.Missing(); len(m) != 0 {
		t.Errorf("Missing %v", m)
	}
	if err := imp.WriteGroup(0, src.group(0)); err != nil {
		t.Error(err)
	}
	if got, err := imp.Commit(t.Context()); err != nil || got.ID != src.id {
		t.Errorf("Commit: %+v, %v", got, err)
	}
}

// TestImportWriteGroups writes runs of groups at once: a run with one bad
// group keeps the groups before it and nothing after; a malformed run
// writes nothing; whole runs, the blob's short last group included,
// complete the import.
func TestImportWriteGroups(t *testing.T) {
	e := newEnv(t)
	src := newSource(9*GroupSize+1234, 7)
	imp := e.begin(src)
	defer imp.Abort()
	run := func(first, count int) []byte {
		lo := int64(first) * GroupSize
		return src.data[lo:min(src.size(), lo+int64(count)*GroupSize)]
	}
	bad := bytes.Clone(run(2, 4))
	bad[2*GroupSize+9] ^= 1 // in group 4
	rejected := []struct {
		name  string
		first int
		data  []byte
	}{
		{"one bad group", 2, bad},
		{"not at a group boundary", 0, run(0, 2)[:GroupSize+1]},
		{"past the end", 8, append(bytes.Clone(run(8, 2)), 0)},
		{"empty", 3, nil},
		{"index past end", 10, run(0, 1)},
	}
	for _, c := range rejected {
		if err := imp.WriteGroups(c.first, c.data); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", c.name, err)
		}
	}
	want := slices.DeleteFunc(seq(src.groups()), func(i int) bool { return i == 2 || i == 3 })
	if got := imp.Missing(); !slices.Equal(got, want) {
		t.Fatalf("missing after rejected runs: %v, want %v", got, want)
	}
	for _, r := range [][2]int{{6, 4}, {0, 3}, {3, 3}, {1, 2}} { // the last one again: a no-op
		if err := imp.WriteGroups(r[0], run(r[0], r[1])); err != nil {
			t.Fatalf("groups %d+%d: %v", r[0], r[1], err)
		}
	}
	if _, err := imp.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, err := e.readAll(src.id); err != nil || !bytes.Equal(got, src.data) {
		t.Fatalf("read back: %v", err)
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
