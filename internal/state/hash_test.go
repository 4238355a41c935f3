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

func BenchmarkRawHash(b *testing.B) {
	var l, r id.Hash
	msg := make([]byte, 68)
	copy(msg, "node")
	b.Run("zeebo", func(b *testing.B) {
		for b.Loop() {
			sink = zblake3.Sum256(msg)
			msg[5] = sink[0]
		}
	})
	b.Run("lukechampine", func(b *testing.B) {
		for b.Loop() {
			sink = lblake3.Sum256(msg)
			msg[5] = sink[0]
		}
	})
	b.Run("fixed68", func(b *testing.B) {
		for b.Loop() {
			sink = nodeHash(&l, &r)
			l = sink
		}
	})
}
