package state

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	zblake3 "github.com/zeebo/blake3"
	lblake3 "lukechampine.com/blake3"
	"lukechampine.com/blake3/guts"

	"github.com/onvm-network/onvm/internal/id"
)

func TestHash68MatchesBLAKE3(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		var a, b id.Hash
		for j := range a {
			a[j], b[j] = byte(r.Uint32()), byte(r.Uint32())
		}
		for _, tag := range []string{"node", "leaf"} {
			msg := append(append([]byte(tag), a[:]...), b[:]...)
			want := id.Hash(zblake3.Sum256(msg))
			var got id.Hash
			if tag == "node" {
				got = nodeHash(&a, &b)
			} else {
				got = leafHash(&a, &b)
			}
			if got != want {
				t.Fatalf("%s(%x, %x) = %x, want %x", tag, a, b, got, want)
			}
			if tag == "node" && (gutsNodeHash(&a, &b) != want || goNodeHash(&a, &b) != want) {
				t.Fatal("a candidate node hash differs")
			}
		}
	}
}

var sink id.Hash

// benchHashes measures the candidate implementations of the node hash
// (BLAKE3 of 68 bytes) next to the one in use, each reported also as a
// ratio to *raw (when set): zeebo/blake3 and lukechampine.com/blake3
// through their public Sum256, and sixteen at once with compress16 (ns per
// hash).
func benchHashes(b *testing.B, raw *float64) {
	ratio := func(b *testing.B, hashes int) {
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(hashes)
		b.ReportMetric(ns, "ns/hash")
		if raw != nil && *raw > 0 {
			b.ReportMetric(ns / *raw, "x-node")
		}
	}
	msg := make([]byte, 68)
	copy(msg, "node")
	b.Run("hash/zeebo", func(b *testing.B) {
		for b.Loop() {
			sink = zblake3.Sum256(msg)
			msg[5] = sink[0]
		}
		ratio(b, 1)
	})
	b.Run("hash/lukechampine", func(b *testing.B) {
		for b.Loop() {
			sink = lblake3.Sum256(msg)
			msg[5] = sink[0]
		}
		ratio(b, 1)
	})
	b.Run("hash/fixed68-go", func(b *testing.B) {
		var l, r id.Hash
		for b.Loop() {
			l = goNodeHash(&l, &r)
		}
		sink = l
		ratio(b, 1)
	})
	b.Run("hash/guts", func(b *testing.B) {
		var l, r id.Hash
		for b.Loop() {
			l = gutsNodeHash(&l, &r)
		}
		sink = l
		ratio(b, 1)
	})
	if haveLanes {
		b.Run("hash/lanes16", func(b *testing.B) {
			var m [17][16]uint32
			var out [8][16]uint32
			for b.Loop() {
				compress16(&m, &out)
				m[1] = out[0]
			}
			ratio(b, 16)
		})
	}
}

// goNodeHash is the node hash with both compressions unrolled in portable
// Go for this fixed layout (hash_gen_test.go, from gen_hash.go).
func goNodeHash(a, b *id.Hash) id.Hash {
	var m [16]uint32
	m[0] = tagNode
	for i := 0; i < 8; i++ {
		m[1+i] = binary.LittleEndian.Uint32(a[4*i:])
	}
	for i := 0; i < 7; i++ {
		m[9+i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	c0, c1, c2, c3, c4, c5, c6, c7 := compressFirst(&m)
	o := compressLast(c0, c1, c2, c3, c4, c5, c6, c7, binary.LittleEndian.Uint32(b[28:]))
	var out id.Hash
	for i, w := range o {
		binary.LittleEndian.PutUint32(out[4*i:], w)
	}
	return out
}

// gutsNodeHash is the node hash built on lukechampine.com/blake3/guts:
// the two blocks compressed with guts.CompressNode.
func gutsNodeHash(l, r *id.Hash) id.Hash {
	var blk [64]byte
	copy(blk[:], "node")
	copy(blk[4:], l[:])
	copy(blk[36:], r[:28])
	n := guts.Node{CV: guts.IV, Block: guts.BytesToWords(blk), BlockLen: 64, Flags: guts.FlagChunkStart}
	cv := guts.ChainingValue(n)
	var last [64]byte
	copy(last[:], r[28:])
	out := guts.CompressNode(guts.Node{CV: cv, Block: guts.BytesToWords(last), BlockLen: 4, Flags: guts.FlagChunkEnd | guts.FlagRoot})
	var h id.Hash
	for i := 0; i < 8; i++ {
		binary.LittleEndian.PutUint32(h[4*i:], out[i])
	}
	return h
}

func BenchmarkRawHash(b *testing.B) {
	var raw float64
	b.Run("hash/node", func(b *testing.B) {
		var l, r id.Hash
		for b.Loop() {
			sink = nodeHash(&l, &r)
			l = sink
		}
		raw = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	benchHashes(b, &raw)
}
