package state

import (
	"bytes"
	"testing"

	"github.com/onvm-network/onvm/internal/id"
)

// fuzzTree is a small fixed state the verifier fuzzer proves against.
var fuzzTree = refTree{"a": []byte("1"), "b": {}, "key": []byte("value"), "k2": []byte("v2"), "zz": []byte("last")}

// FuzzVerify checks that, given the honest siblings for any key, Verify
// accepts exactly the true statement about that key (present with its
// value, or absent) and rejects every other claim, and that corrupting any
// sibling byte makes the true statement fail.
func FuzzVerify(f *testing.F) {
	f.Add([]byte("a"), []byte("1"), true, uint16(0))
	f.Add([]byte("b"), []byte{}, true, uint16(8000))
	f.Add([]byte("nope"), []byte(nil), false, uint16(31))
	f.Add([]byte("key"), []byte("wrong"), true, uint16(4095))
	root := fuzzTree.root()
	f.Fuzz(func(t *testing.T, key, value []byte, present bool, flip uint16) {
		sibs := fuzzTree.proof(key)
		tv, tp := fuzzTree[string(key)]
		truth := present == tp && (!present || bytes.Equal(value, tv))
		err := Verify(root, key, value, present, sibs)
		if (err == nil) != truth {
			t.Fatalf("Verify(%q, %q, present=%v) = %v; the state has %q present=%v", key, value, present, err, tv, tp)
		}
		i := int(flip) % (Depth * id.Size)
		sibs[i/id.Size][i%id.Size] ^= 1
		if err := Verify(root, key, tv, tp, sibs); err == nil {
			t.Fatalf("proof with sibling byte %d flipped verifies", i)
		}
	})
}

// FuzzVerifyGarbage feeds arbitrary bytes to Verify: it must not panic,
// and it must reject anything that is not 256 siblings.
func FuzzVerifyGarbage(f *testing.F) {
	f.Add(EmptyRoot[:], []byte("k"), []byte("v"), false, bytes.Repeat(EmptyRoot[:], Depth))
	f.Add([]byte{1, 2}, []byte{}, []byte{}, true, []byte{3})
	f.Fuzz(func(t *testing.T, root, key, value []byte, present bool, raw []byte) {
		var r id.Hash
		copy(r[:], root)
		sibs := make([]id.Hash, len(raw)/id.Size)
		for i := range sibs {
			copy(sibs[i][:], raw[i*id.Size:])
		}
		err := Verify(r, key, value, present, sibs)
		if len(sibs) != Depth && err == nil {
			t.Fatalf("%d siblings accepted", len(sibs))
		}
	})
}

// FuzzDecodeRecord feeds arbitrary bytes to the stored-record decoders:
// they must not panic, and whatever they accept must be the one encoding of
// what they decode to.
func FuzzDecodeRecord(f *testing.F) {
	kh := keyHash([]byte("k"))
	f.Add(newLeaf(&kh, []byte("k"), []byte("v")).encode())
	f.Add(encodeLeafValue([]byte("k"), []byte("v")))
	f.Add(encodeLeafValue(nil, nil))
	br := &record{split: 13, path: prefixOf(&kh, 13)}
	br.kids[0].h = id.Sum(kh[:])
	br.kids[1].h = kh
	f.Add(br.encode())
	br.kids[bit(&kh, 13)] = child{h: kh, leaf: true, kh: kh, lh: kh}
	f.Add(br.encode())
	f.Add([]byte{kindBranch, 255})
	f.Add([]byte{kindRootLeaf})
	f.Fuzz(func(t *testing.T, b []byte) {
		if rec, err := decodeRecord(b); err == nil {
			if again := rec.encode(); !bytes.Equal(again, b) {
				t.Fatalf("decodeRecord(%x) re-encodes as %x", b, again)
			}
		}
		if k, v, err := decodeLeafValue(b); err == nil {
			if again := encodeLeafValue(k, v); !bytes.Equal(again, b) {
				t.Fatalf("decodeLeafValue(%x) re-encodes as %x", b, again)
			}
		}
	})
}
