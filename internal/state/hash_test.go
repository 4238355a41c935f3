package state

import (
	"math/rand/v2"
	"testing"

	zblake3 "github.com/zeebo/blake3"
	lblake3 "lukechampine.com/blake3"

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
