package blob

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/id"
)

// FuzzVerifyMutated damages a real outboard and a real group at fuzzer-chosen
// places: the verifiers must accept exactly the undamaged data.
func FuzzVerifyMutated(f *testing.F) {
	f.Add(uint32(3*GroupSize+7), uint16(2), uint16(9), byte(1), uint32(5), byte(0))
	f.Add(uint32(100), uint16(0), uint16(3), byte(0), uint32(99), byte(0x80))
	f.Add(uint32(0), uint16(0), uint16(0), byte(0), uint32(0), byte(0))
	f.Add(uint32(8*GroupSize), uint16(7), uint16(400), byte(4), uint32(GroupSize-1), byte(2))
	f.Fuzz(func(t *testing.T, size32 uint32, index16, obPos uint16, obXor byte, dataPos uint32, dataXor byte) {
		size := int64(size32 % (9 * GroupSize))
		data := pattern(int(size))
		if size > 0 {
			data[size/2] ^= byte(size32 >> 24) // vary content a little
		}
		b, ob := EncodeOutboard(data)
		index := int64(index16) % Groups(size)
		lo := index * GroupSize
		group := data[lo : lo+int64(groupLen(size, index))]

		badOb := bytes.Clone(ob)
		badOb[int(obPos)%len(badOb)] ^= obXor
		badGroup := bytes.Clone(group)
		if len(badGroup) > 0 {
			badGroup[int(dataPos)%len(badGroup)] ^= dataXor
		}
		if err := VerifyOutboard(b, size, badOb); (err == nil) != bytes.Equal(badOb, ob) {
			t.Fatalf("VerifyOutboard: %v with outboard changed %v", err, !bytes.Equal(badOb, ob))
		}
		err := VerifyGroup(b, size, badOb, int(index), badGroup)
		if err == nil && !bytes.Equal(badGroup, group) {
			t.Fatal("VerifyGroup accepted damaged data")
		}
		if bytes.Equal(badOb, ob) && (err == nil) != bytes.Equal(badGroup, group) {
			t.Fatalf("VerifyGroup with a good tree: %v", err)
		}
	})
}

// FuzzVerifyUntrusted feeds arbitrary ids, sizes, outboards and groups: no
// panic, no huge allocation, and nothing accepted for a group that does not
// hash to the tree.
func FuzzVerifyUntrusted(f *testing.F) {
	for _, n := range []int{0, 1, 1025, GroupSize + 1} {
		data := pattern(n)
		b, ob := EncodeOutboard(data)
		f.Add(b[:], int64(n), ob, 0, data[:min(n, GroupSize)])
	}
	f.Add(make([]byte, 32), int64(-1), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, -5, []byte{})
	f.Add(make([]byte, 32), int64(1)<<62, make([]byte, 8), 1<<30, []byte{1})
	f.Fuzz(func(t *testing.T, idb []byte, size int64, ob []byte, index int, data []byte) {
		var b id.Blob
		copy(b[:], idb)
		errOb := VerifyOutboard(b, size, ob)
		errG := VerifyGroup(b, size, ob, index, data)
		if errOb == nil && errG == nil {
			// Accepted: then the group really is part of the blob b.
			if size <= GroupSize && id.BlobOf(data) != b {
				t.Fatal("accepted a single group that does not hash to the id")
			}
		}
		if len(ob) >= 8 && binary.LittleEndian.Uint64(ob) != uint64(size) && errOb == nil {
			t.Fatal("accepted an outboard with another length")
		}
	})
}

// FuzzDecodeRecord: metadata records come from disk; decoding never panics
// and accepts only canonical encodings of valid records.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(codec.MustMarshal(record{Size: 5, MIME: "text/plain", Groups: 1, Created: 1, Complete: true}))
	f.Add(codec.MustMarshal(record{Size: 3 * GroupSize, Groups: 3}))
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, v []byte) {
		r, err := decodeRecord(id.Blob{}, v)
		if err != nil {
			return
		}
		if r.Groups != Groups(r.Size) || r.Size < 0 {
			t.Fatalf("accepted inconsistent record %+v", r)
		}
		again, err := codec.Marshal(r)
		if err != nil || !bytes.Equal(again, v) {
			t.Fatalf("accepted a non-canonical record")
		}
	})
}

// FuzzWriteGroups feeds an import runs of groups from a peer, cut and
// damaged at fuzzer-chosen places: no panic, and a run is accepted exactly
// when it is whole groups of the blob, unchanged, ending at a group
// boundary or at the blob's end.
func FuzzWriteGroups(f *testing.F) {
	f.Add(uint16(1), uint32(2*GroupSize), uint32(0), byte(0))
	f.Add(uint16(0), uint32(4*GroupSize+99), uint32(7), byte(1))
	f.Add(uint16(3), uint32(GroupSize+1), uint32(GroupSize), byte(0x80))
	f.Add(uint16(4), uint32(0), uint32(0), byte(0))
	const size = 4*GroupSize + 99
	data := pattern(size)
	b, ob := EncodeOutboard(data)
	f.Fuzz(func(t *testing.T, first uint16, n uint32, pos uint32, xor byte) {
		e := newEnv(t)
		imp, err := e.s.BeginImport(t.Context(), b, size, "", ob)
		if err != nil {
			t.Fatal(err)
		}
		defer imp.Abort()
		lo := min(int64(first)*GroupSize, size)
		run := bytes.Clone(data[lo:min(size, lo+int64(n))])
		if len(run) > 0 {
			run[int(pos)%len(run)] ^= xor
		}
		if xor == 0 && n%8 == 7 {
			run = append(run, 0) // sometimes longer than the blob
		}
		err = imp.WriteGroups(int(first), run)
		end := lo + int64(len(run))
		good := int64(first) < Groups(size) && len(run) > 0 && end <= size &&
			bytes.Equal(run, data[lo:end]) && (end == size || len(run)%GroupSize == 0)
		if (err == nil) != good {
			t.Fatalf("WriteGroups(%d, %d bytes, changed %v) = %v", first, len(run), xor != 0, err)
		}
	})
}
