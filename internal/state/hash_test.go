package state

import (
	"encoding/binary"
	"math/rand/v2"
	"runtime"
	"testing"

	zblake3 "github.com/zeebo/blake3"
	"golang.org/x/sys/unix"
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
// (BLAKE3 of 68 bytes) side by side: zeebo/blake3 (in use, via hash68),
// lukechampine.com/blake3, the two blocks compressed with
// lukechampine.com/blake3/guts, both blocks unrolled in portable Go, and
// sixteen messages at once with compress16. On a shared machine wall time
// is mostly waiting, so each b.Loop iteration runs a round of every
// candidate in turn and the figures are this thread's CPU time per hash
// (ns/hash-<name>) and the ratio to the hash in use (x-<name>). *raw
// receives the CPU time of the hash in use.
func benchHashes(b *testing.B, raw *float64) {
	type candidate struct {
		name string
		n    int // hashes per call
		f    func(l, r *id.Hash) id.Hash
	}
	var msg [17][16]uint32
	var out [8][16]uint32
	cands := []candidate{
		{"zeebo", 1, nodeHash},
		{"lukechampine", 1, func(l, r *id.Hash) id.Hash {
			var m [68]byte
			copy(m[:], "node")
			copy(m[4:], l[:])
			copy(m[36:], r[:])
			return lblake3.Sum256(m[:])
		}},
		{"guts", 1, gutsNodeHash},
		{"go", 1, goNodeHash},
	}
	if haveLanes {
		cands = append(cands, candidate{"lanes16", 16, func(l, r *id.Hash) id.Hash {
			msg[1][0] = uint32(l[0])
			compress16(&msg, &out)
			return id.Hash{byte(out[0][0])}
		}})
	}
	b.Run("hash/compare", func(b *testing.B) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		const round = 2048
		cpu := make([]int64, len(cands))
		for b.Loop() {
			for i, c := range cands {
				var l, r id.Hash
				t0 := threadCPU()
				for range round / c.n {
					l = c.f(&l, &r)
				}
				cpu[i] += threadCPU() - t0
				sink = l
			}
		}
		base := float64(cpu[0])
		for i, c := range cands {
			b.ReportMetric(float64(cpu[i])/float64(b.N*round), "ns/hash-"+c.name)
			b.ReportMetric(float64(cpu[i])/base, "x-"+c.name)
		}
		if raw != nil {
			*raw = base / float64(b.N*round)
		}
	})
}

// threadCPU returns the CPU time of the calling OS thread.
func threadCPU() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return ts.Nano()
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

// BenchmarkRawHash compares the node hash candidates; see benchHashes.
func BenchmarkRawHash(b *testing.B) { benchHashes(b, nil) }
