package blob

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestNoSpace fills a tiny tmpfs. It needs the right to mount (root in a
// container that allows it) and skips otherwise.
func TestNoSpace(t *testing.T) {
	e := newEnv(t)
	mnt := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=512k"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(mnt, 0); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	_ = e.s.Close()
	s, err := Open(Options{Dir: mnt, DB: e.db})
	if err != nil {
		t.Fatal(err)
	}
	e.s, e.dir = s, mnt

	big := randBytes(1<<20, 1)
	_, _, err = e.s.Put(t.Context(), bytes.NewReader(big), "")
	if !errors.Is(err, ErrNoSpace) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Put of 1 MiB on 512 KiB: %v, want ErrNoSpace", err)
	}
	assertEmpty(t, e)

	// The space was given back: a small blob fits.
	small := randBytes(100<<10, 2)
	if _, _, err := e.s.Put(t.Context(), bytes.NewReader(small), ""); err != nil {
		t.Fatalf("Put after ENOSPC: %v", err)
	}

	// An import runs out of space on WriteGroup; the blob stays invisible.
	src := newSource(1<<20, 3)
	imp := e.begin(src)
	var werr error
	for g := range src.groups() {
		if werr = imp.WriteGroup(g, src.group(g)); werr != nil {
			break
		}
	}
	if !errors.Is(werr, ErrNoSpace) {
		t.Fatalf("WriteGroup on a full disk: %v, want ErrNoSpace", werr)
	}
	if _, err := imp.Commit(t.Context()); !errors.Is(err, ErrIncomplete) {
		t.Errorf("Commit: %v, want ErrIncomplete", err)
	}
	if _, err := e.s.Open(t.Context(), src.id); !errors.Is(err, ErrIncomplete) {
		t.Errorf("Open: %v, want ErrIncomplete", err)
	}
	if err := imp.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Delete(t.Context(), src.id); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Close(); err != nil {
		t.Fatal(err)
	}
	e.s = nil
}
