package blob

import (
	"bytes"
	"errors"
	"os"
	"testing"
)

// TestVerifyGroupFlippedBit flips every bit of a small blob and a sample of
// bits of every group of a multi-group blob.
func TestVerifyGroupFlippedBit(t *testing.T) {
	small := randBytes(100, 1)
	b, ob := EncodeOutboard(small)
	for bit := range len(small) * 8 {
		bad := bytes.Clone(small)
		bad[bit/8] ^= 1 << (bit % 8)
		if err := VerifyGroup(b, 100, ob, 0, bad); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("bit %d: %v, want ErrCorrupt", bit, err)
		}
	}

	const size = 5*GroupSize + 9
	data := randBytes(size, 2)
	b, ob = EncodeOutboard(data)
	for g := range int(Groups(size)) {
		lo := g * GroupSize
		group := data[lo : lo+groupLen(size, int64(g))]
		for _, pos := range []int{0, 1, len(group) / 2, len(group) - 1} {
			for bit := range 8 {
				bad := bytes.Clone(group)
				bad[pos] ^= 1 << bit
				if err := VerifyGroup(b, size, ob, g, bad); !errors.Is(err, ErrCorrupt) {
					t.Fatalf("group %d byte %d bit %d: %v, want ErrCorrupt", g, pos, bit, err)
				}
			}
		}
		// Right bytes under the wrong index, or truncated, are rejected too.
		if err := VerifyGroup(b, size, ob, (g+1)%int(Groups(size)), group); err == nil {
			t.Fatalf("group %d accepted at index %d", g, g+1)
		}
		if err := VerifyGroup(b, size, ob, g, group[:len(group)-1]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("group %d truncated: %v", g, err)
		}
	}
}

// TestVerifyOutboardFlippedBit flips every bit of an outboard: the whole
// check fails, and so does every group below the damaged node.
func TestVerifyOutboardFlippedBit(t *testing.T) {
	const size = 6*GroupSize + 1
	data := randBytes(size, 3)
	b, ob := EncodeOutboard(data)
	for bit := range len(ob) * 8 {
		bad := bytes.Clone(ob)
		bad[bit/8] ^= 1 << (bit % 8)
		if err := VerifyOutboard(b, size, bad); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("bit %d: VerifyOutboard %v, want ErrCorrupt", bit, err)
		}
		rejected := 0
		for g := range int(Groups(size)) {
			lo := g * GroupSize
			if VerifyGroup(b, size, bad, g, data[lo:lo+groupLen(size, int64(g))]) != nil {
				rejected++
			}
		}
		if rejected == 0 {
			t.Fatalf("bit %d: every group still verifies", bit)
		}
	}
	if err := VerifyOutboard(b, size, ob[:len(ob)-1]); !errors.Is(err, ErrCorrupt) {
		t.Errorf("short outboard: %v", err)
	}
	if err := VerifyOutboard(b, size+1, ob); !errors.Is(err, ErrCorrupt) {
		t.Errorf("wrong size: %v", err)
	}
}

// flipStored flips one bit of the stored file of info at off.
func flipStored(t *testing.T, e *env, info Info, off int64) {
	t.Helper()
	f, err := os.OpenFile(e.s.finalPath(info.ID), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var one [1]byte
	if _, err := f.ReadAt(one[:], off); err != nil {
		t.Fatal(err)
	}
	one[0] ^= 0x10
	if _, err := f.WriteAt(one[:], off); err != nil {
		t.Fatal(err)
	}
}

// TestCorruptFileNeverServed damages stored data and stored tree nodes: the
// damaged group is refused with ErrCorrupt, the others are still served
// correctly from the open Reader, and the blob is then marked incomplete.
func TestCorruptFileNeverServed(t *testing.T) {
	const size = 4*GroupSize + 77
	cases := []struct {
		name  string
		off   int64 // offset in the file
		group int64 // a group that must fail
	}{
		{"data first byte", 0, 0},
		{"data last byte", size - 1, 4},
		{"data middle", 2*GroupSize + 5, 2},
		{"tree root node", size + headerSize, 3},
		{"tree leaf node", size + OutboardSize(size) - 1, 3}, // right child of the node over groups 2-3
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			data := randBytes(size, 4)
			info := e.put(data)
			r, err := e.s.Open(t.Context(), info.ID)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			flipStored(t, e, info, c.off)

			p := make([]byte, 10)
			_, err = r.ReadAt(p, c.group*GroupSize)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("read damaged group: %v, want ErrCorrupt", err)
			}
			// Reading everything never yields a wrong byte.
			all := make([]byte, size)
			for off := int64(0); off < size; off += GroupSize {
				n, err := r.ReadAt(all[off:min(off+GroupSize, size)], off)
				if err == nil && !bytes.Equal(all[off:off+int64(n)], data[off:off+int64(n)]) {
					t.Fatalf("group at %d served wrong bytes", off)
				}
			}
			st, err := e.s.Stat(t.Context(), info.ID)
			if err != nil || st.Complete {
				t.Fatalf("after corruption: %+v, %v; want incomplete", st, err)
			}
			if _, err := e.s.Open(t.Context(), info.ID); !errors.Is(err, ErrIncomplete) {
				t.Fatalf("Open after corruption: %v, want ErrIncomplete", err)
			}
			if blobs, _ := e.s.Usage(); blobs != 0 {
				t.Errorf("usage counts %d blobs", blobs)
			}
			// Storing the bytes again repairs it.
			if _, existed, err := e.s.Put(t.Context(), bytes.NewReader(data), ""); err != nil || existed {
				t.Fatalf("repair Put: existed %v, %v", existed, err)
			}
			if got, err := e.readAll(info.ID); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("after repair: %v", err)
			}
			if names := e.files(); len(names) != 1 {
				t.Errorf("files after repair: %v", names)
			}
		})
	}
}

func TestCorruptOutboardRefused(t *testing.T) {
	e := newEnv(t)
	const size = 3*GroupSize + 1
	info := e.put(randBytes(size, 5))
	flipStored(t, e, info, size+headerSize+64+3)
	if _, err := e.s.Outboard(t.Context(), info.ID); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Outboard: %v, want ErrCorrupt", err)
	}
	if _, err := e.s.ReadGroup(t.Context(), info.ID, 0); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("ReadGroup after: %v, want ErrIncomplete", err)
	}
}

func TestMissingFile(t *testing.T) {
	e := newEnv(t)
	info := e.put(randBytes(1000, 6))
	if err := os.Remove(e.s.finalPath(info.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Open(t.Context(), info.ID); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open: %v, want ErrCorrupt", err)
	}
	if _, err := e.s.Open(t.Context(), info.ID); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("second Open: %v, want ErrIncomplete", err)
	}
}

// TestStaleReaderDoesNotDemoteRepair: a Reader still open on a damaged file
// that has since been repaired must not mark the repaired blob incomplete.
func TestStaleReaderDoesNotDemoteRepair(t *testing.T) {
	e := newEnv(t)
	const size = 3 * GroupSize
	data := randBytes(size, 9)
	info := e.put(data)
	r, err := e.s.Open(t.Context(), info.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	flipStored(t, e, info, 10)
	flipStored(t, e, info, 2*GroupSize+10)
	if _, err := r.ReadAt(make([]byte, 1), 0); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("first read: %v", err)
	}
	if _, existed, err := e.s.Put(t.Context(), bytes.NewReader(data), ""); err != nil || existed {
		t.Fatalf("repair: %v %v", existed, err)
	}
	if _, err := r.ReadAt(make([]byte, 1), 2*GroupSize); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("stale read: %v", err)
	}
	if st, err := e.s.Stat(t.Context(), info.ID); err != nil || !st.Complete {
		t.Fatalf("repaired blob demoted: %+v %v", st, err)
	}
	if got, err := e.readAll(info.ID); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read repaired: %v", err)
	}
}
