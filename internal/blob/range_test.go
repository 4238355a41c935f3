package blob

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/onvm-network/onvm/internal/id"
)

// TestReadAtBoundaries compares ReadAt, and Seek followed by Read, with the
// source bytes at every group edge, the first and last byte, the whole blob
// and empty ranges.
func TestReadAtBoundaries(t *testing.T) {
	e := newEnv(t)
	const size = 3*GroupSize + 100
	data := randBytes(size, 7)
	info := e.put(data)
	r, err := e.s.Open(t.Context(), info.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Size() != size {
		t.Fatalf("Size %d", r.Size())
	}
	offs := []int64{0, 1, GroupSize - 1, GroupSize, GroupSize + 1, 2*GroupSize - 1, 2 * GroupSize,
		3*GroupSize - 1, 3 * GroupSize, 3*GroupSize + 1, size - 1, size, size + 5}
	lens := []int64{0, 1, 2, GroupSize - 1, GroupSize, GroupSize + 1, 2*GroupSize + 1, size}
	for _, off := range offs {
		for _, n := range lens {
			p := make([]byte, n)
			got, err := r.ReadAt(p, off)
			end := min(off+n, size)
			want := []byte{}
			if off < size {
				want = data[off:end]
			}
			wantErr := n > 0 && off+n > size
			if got != len(want) || !bytes.Equal(p[:got], want) {
				t.Fatalf("ReadAt(%d, %d): %d bytes, want %d (equal %v)", n, off, got, len(want), bytes.Equal(p[:got], want))
			}
			if wantErr != (err != nil) || (err != nil && !errors.Is(err, io.EOF)) {
				t.Fatalf("ReadAt(%d, %d): err %v, want EOF %v", n, off, err, wantErr)
			}

			if _, err := r.Seek(off, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			q, err := io.ReadAll(io.LimitReader(struct{ io.Reader }{r}, n))
			if err != nil || !bytes.Equal(q, want) {
				t.Fatalf("Seek(%d)+Read(%d): %d bytes, err %v", off, n, len(q), err)
			}
		}
	}
	// Seek relative to the current position and to the end.
	if _, err := r.Seek(-10, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Seek(4, io.SeekCurrent); err != nil {
		t.Fatal(err)
	}
	tail, err := io.ReadAll(struct{ io.Reader }{r})
	if err != nil || !bytes.Equal(tail, data[size-6:]) {
		t.Fatalf("tail: %d bytes, err %v", len(tail), err)
	}
	if _, err := r.Seek(-1, io.SeekStart); err == nil {
		t.Error("Seek to a negative position succeeded")
	}
	if _, err := r.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("ReadAt at a negative offset succeeded")
	}
}

func TestReadGroupAndOutboard(t *testing.T) {
	e := newEnv(t)
	for _, size := range []int{0, 10, GroupSize, 4*GroupSize + 3} {
		data := randBytes(size, uint64(size)+1)
		info := e.put(data)
		ob, err := e.s.Outboard(t.Context(), info.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, want := EncodeOutboard(data); !bytes.Equal(ob, want) {
			t.Fatalf("size %d: stored outboard differs", size)
		}
		for g := range info.Groups {
			got, err := e.s.ReadGroup(t.Context(), info.ID, g)
			if err != nil {
				t.Fatal(err)
			}
			lo := g * GroupSize
			if !bytes.Equal(got, data[lo:lo+groupLen(int64(size), int64(g))]) {
				t.Fatalf("size %d group %d differs", size, g)
			}
			if err := VerifyGroup(info.ID, info.Size, ob, g, got); err != nil {
				t.Fatal(err)
			}
		}
		for _, bad := range []int{-1, info.Groups} {
			if _, err := e.s.ReadGroup(t.Context(), info.ID, bad); !errors.Is(err, ErrGroupRange) {
				t.Errorf("size %d: ReadGroup(%d) succeeded", size, bad)
			}
		}
	}
}

func TestReaderClosed(t *testing.T) {
	e := newEnv(t)
	info := e.put([]byte("hello"))
	r, err := e.s.Open(t.Context(), info.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := r.Read(make([]byte, 1)); err == nil {
		t.Error("Read after Close succeeded")
	}
}

// TestOpenForPeer reads stored bytes unverified, within the data only, and
// refuses what Open refuses.
func TestOpenForPeer(t *testing.T) {
	e := newEnv(t)
	const size = 3*GroupSize + 5
	data := randBytes(size, 11)
	info := e.put(data)
	r, err := e.s.OpenForPeer(t.Context(), info.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Size() != size {
		t.Fatalf("Size %d", r.Size())
	}
	cases := []struct {
		name string
		off  int64
		n    int
		ok   bool
	}{
		{"all", 0, size, true},
		{"last group", 3 * GroupSize, 5, true},
		{"empty at end", size, 0, true},
		{"into the outboard", 3 * GroupSize, 6, false},
		{"negative", -1, 1, false},
		{"past the end", size + 1, 0, false},
	}
	for _, c := range cases {
		p := make([]byte, c.n)
		_, err := r.ReadAt(p, c.off)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
		if err == nil && !bytes.Equal(p, data[c.off:c.off+int64(c.n)]) {
			t.Errorf("%s: wrong bytes", c.name)
		}
	}
	// Unverified: a damaged byte comes through (the peer catches it), but
	// the verified path still refuses it and marks the blob.
	flipStored(t, e, info, GroupSize+3)
	p := make([]byte, 1)
	if _, err := r.ReadAt(p, GroupSize+3); err != nil || p[0] == data[GroupSize+3] {
		t.Fatalf("unverified read of a damaged byte: %v %x", err, p)
	}
	if _, err := e.s.ReadGroup(t.Context(), info.ID, 1); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("ReadGroup of the damaged group: %v", err)
	}
	if _, err := e.s.OpenForPeer(t.Context(), info.ID); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("OpenForPeer after corruption: %v, want ErrIncomplete", err)
	}
	if _, err := e.s.OpenForPeer(t.Context(), id.Blob{1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("OpenForPeer of an unknown blob: %v", err)
	}
}
