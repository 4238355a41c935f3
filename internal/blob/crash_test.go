package blob

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/onvm-network/onvm/internal/id"
)

// failAfter yields n bytes of data and then fails with err (after calling
// hook, if set).
type failAfter struct {
	data []byte
	n    int
	err  error
	hook func()
}

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		if f.hook != nil {
			f.hook()
			return 0, errors.New("read after cancel") // Put must stop on ctx anyway
		}
		return 0, f.err
	}
	c := copy(p[:min(len(p), f.n)], f.data)
	f.data = f.data[c:]
	f.n -= c
	return c, nil
}

// assertEmpty checks that the store holds nothing: no files, no records.
func assertEmpty(t *testing.T, e *env) {
	t.Helper()
	if names := e.files(); len(names) != 0 {
		t.Errorf("files left: %v", names)
	}
	n := 0
	_ = e.s.eachRecord(func(id.Blob, record) error { n++; return nil }, func(id.Blob, error) { n++ })
	if n != 0 {
		t.Errorf("%d records left", n)
	}
	if blobs, total := e.s.Usage(); blobs != 0 || total != 0 {
		t.Errorf("usage %d blobs %d bytes", blobs, total)
	}
}

func TestPutInterrupted(t *testing.T) {
	data := randBytes(5*GroupSize, 8)
	readErr := errors.New("connection reset")
	cases := []struct {
		name string
		put  func(e *env) error
		want error
	}{
		{"reader error", func(e *env) error {
			_, _, err := e.s.Put(t.Context(), &failAfter{data: data, n: 2*GroupSize + 10, err: readErr}, "")
			return err
		}, readErr},
		{"reader error at start", func(e *env) error {
			_, _, err := e.s.Put(t.Context(), &failAfter{data: data, n: 0, err: readErr}, "")
			return err
		}, readErr},
		{"ctx cancelled mid-stream", func(e *env) error {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			_, _, err := e.s.Put(ctx, &failAfter{data: data, n: 3 * GroupSize, hook: cancel}, "")
			return err
		}, context.Canceled},
		{"ctx cancelled before", func(e *env) error {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			_, _, err := e.s.Put(ctx, bytes.NewReader(data), "")
			return err
		}, context.Canceled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			if err := c.put(e); !errors.Is(err, c.want) {
				t.Fatalf("Put: %v, want %v", err, c.want)
			}
			assertEmpty(t, e)
			if _, err := e.s.Stat(t.Context(), id.BlobOf(data)); !errors.Is(err, ErrNotFound) {
				t.Errorf("Stat: %v", err)
			}
		})
	}
}

func TestMaxSize(t *testing.T) {
	e := newEnv(t)
	const max = 2*GroupSize + 5
	e.reopen(max)
	if _, _, err := e.s.Put(t.Context(), bytes.NewReader(randBytes(max, 1)), ""); err != nil {
		t.Fatalf("Put of MaxSize bytes: %v", err)
	}
	for _, n := range []int{max + 1, 10 * GroupSize} {
		_, _, err := e.s.Put(t.Context(), bytes.NewReader(randBytes(n, 2)), "")
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("Put of %d bytes: %v, want ErrTooLarge", n, err)
		}
	}
	if names := e.files(); len(names) != 1 {
		t.Errorf("files %v, want only the accepted blob", names)
	}
	big := randBytes(max+1, 3)
	b, ob := EncodeOutboard(big)
	if _, err := e.s.BeginImport(t.Context(), b, max+1, "", ob); !errors.Is(err, ErrTooLarge) {
		t.Errorf("BeginImport beyond MaxSize: %v", err)
	}
	if _, err := e.s.Stat(t.Context(), b); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat after refused import: %v", err)
	}
}

// TestReopenAfterCrash leaves behind what crashes and disk damage leave, then
// reopens the store.
func TestReopenAfterCrash(t *testing.T) {
	e := newEnv(t)
	blobs := make([][]byte, 4)
	infos := make([]Info, 4)
	for i := range blobs {
		blobs[i] = randBytes(2*GroupSize+i, uint64(10+i))
		infos[i] = e.put(blobs[i])
	}
	good, flipped, truncated, removed := infos[0], infos[1], infos[2], infos[3]

	// A crash inside an import's Commit: renamed, record not yet complete.
	imported := randBytes(GroupSize+3, 20)
	ib, iob := EncodeOutboard(imported)
	imp, err := e.s.BeginImport(t.Context(), ib, int64(len(imported)), "", iob)
	if err != nil {
		t.Fatal(err)
	}
	for g := range 2 {
		if err := imp.WriteGroup(g, imported[g*GroupSize:min(len(imported), (g+1)*GroupSize)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := imp.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(e.s.partPath(ib), e.s.finalPath(ib)); err != nil {
		t.Fatal(err)
	}

	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(e.dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	orphan := id.Hash(id.BlobOf([]byte("orphan"))).String()
	write(tmpPrefix+"put-12345", []byte("half a blob"))
	write(orphan, []byte("a Put that crashed before its record"))
	write(orphan+partSuffix, []byte("an import whose record never made it"))
	write("README", []byte("not ours: left alone"))
	flipStored(t, e, flipped, 3)
	if err := os.Truncate(e.s.finalPath(truncated.ID), 100); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(e.s.finalPath(removed.ID)); err != nil {
		t.Fatal(err)
	}

	e.reopen(0)

	want := []string{"README", id.Hash(good.ID).String(), id.Hash(flipped.ID).String(),
		id.Hash(truncated.ID).String() + partSuffix, id.Hash(ib).String() + partSuffix}
	got := e.files()
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("files after reopen:\n got %v\nwant %v", got, want)
	}
	if n, total := e.s.Usage(); n != 2 || total != good.Size+flipped.Size {
		t.Errorf("usage %d blobs %d bytes", n, total)
	}
	if data, err := e.readAll(good.ID); err != nil || !bytes.Equal(data, blobs[0]) {
		t.Errorf("intact blob: %v", err)
	}
	// The flipped blob has the right length, so only reading finds it.
	if data, err := e.readAll(flipped.ID); !errors.Is(err, ErrCorrupt) {
		t.Errorf("flipped blob: %d bytes, %v; want ErrCorrupt", len(data), err)
	}
	for _, b := range []id.Blob{flipped.ID, truncated.ID, removed.ID, ib} {
		if _, err := e.s.Open(t.Context(), b); !errors.Is(err, ErrIncomplete) {
			t.Errorf("Open %s: %v, want ErrIncomplete", b, err)
		}
	}
	// The interrupted import resumes with nothing missing.
	imp, err = e.s.BeginImport(t.Context(), ib, int64(len(imported)), "", iob)
	if err != nil {
		t.Fatal(err)
	}
	if m := imp.Missing(); len(m) != 0 {
		t.Fatalf("resumed import misses %v", m)
	}
	if _, err := imp.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if data, err := e.readAll(ib); err != nil || !bytes.Equal(data, imported) {
		t.Errorf("resumed import: %v", err)
	}
}

// TestDelete removes complete and partial blobs.
func TestDelete(t *testing.T) {
	e := newEnv(t)
	info := e.put(randBytes(3000, 1))
	if err := e.s.Delete(t.Context(), info.ID); err != nil {
		t.Fatal(err)
	}
	assertEmpty(t, e)
	if err := e.s.Delete(t.Context(), info.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete: %v", err)
	}
}
