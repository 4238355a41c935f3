package blob

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/zeebo/blake3"
)

// Benchmarks run their baselines in the same run, so the ratios hold on a
// shared machine:
//
//	go test -run XXX -bench . -benchtime 3x ./internal/blob/
//
// Put is compared with hashing the stream (zeebo/blake3) and with writing it
// to a file and fsyncing; reads with reading the stored file from the page
// cache.

const benchSize = 256 << 20

// stream yields n pseudo-random bytes by cycling a 4 MiB random block; its
// first 8 bytes are the seed, so every run stores a new blob.
type stream struct {
	seed [8]byte
	off  int64
	left int64
}

var benchBlock = randBytes(4<<20, 42)

func newStream(n int64, seed uint64) *stream {
	s := &stream{left: n}
	binary.LittleEndian.PutUint64(s.seed[:], seed)
	return s
}

func (s *stream) Read(p []byte) (int, error) {
	if s.left == 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), s.left)]
	n := 0
	for n < len(p) {
		pos := int((s.off + int64(n)) % int64(len(benchBlock)))
		n += copy(p[n:], benchBlock[pos:])
	}
	if s.off < 8 {
		copy(p, s.seed[s.off:])
	}
	s.off += int64(n)
	s.left -= int64(n)
	return n, nil
}

func BenchmarkPut(b *testing.B) {
	var seed uint64
	b.Run("baseline-hash-zeebo", func(b *testing.B) {
		b.SetBytes(benchSize)
		buf := make([]byte, GroupSize)
		for b.Loop() {
			seed++
			h := blake3.New()
			if _, err := io.CopyBuffer(h, newStream(benchSize, seed), buf); err != nil {
				b.Fatal(err)
			}
			h.Sum(nil)
		}
	})
	b.Run("baseline-write-fsync", func(b *testing.B) {
		b.SetBytes(benchSize)
		dir := b.TempDir()
		buf := make([]byte, GroupSize)
		for b.Loop() {
			seed++
			f, err := os.Create(filepath.Join(dir, "plain"))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.CopyBuffer(struct{ io.Writer }{f}, newStream(benchSize, seed), buf); err != nil {
				b.Fatal(err)
			}
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
			_ = f.Close()
			b.StopTimer()
			_ = os.Remove(f.Name())
			b.StartTimer()
		}
	})
	b.Run("put", func(b *testing.B) {
		e := newEnv(b)
		b.SetBytes(benchSize)
		b.ReportAllocs()
		for b.Loop() {
			seed++
			info, existed, err := e.s.Put(b.Context(), newStream(benchSize, seed), "")
			if err != nil || existed {
				b.Fatal(err, existed)
			}
			b.StopTimer()
			_ = e.s.Delete(b.Context(), info.ID)
			b.StartTimer()
		}
	})
}

// BenchmarkPutPaired runs, in every iteration, the baselines and Put on the
// same stream back to back and reports each rate and Put's ratio to the
// plain write+fsync: on a shared machine only paired figures compare.
func BenchmarkPutPaired(b *testing.B) {
	e := newEnv(b)
	dir := b.TempDir()
	buf := make([]byte, GroupSize)
	var seed uint64
	var tHash, tWrite, tPut time.Duration
	for b.Loop() {
		seed++
		start := time.Now()
		h := blake3.New()
		if _, err := io.CopyBuffer(h, newStream(benchSize, seed), buf); err != nil {
			b.Fatal(err)
		}
		h.Sum(nil)
		tHash += time.Since(start)

		start = time.Now()
		f, err := os.Create(filepath.Join(dir, "plain"))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(struct{ io.Writer }{f}, newStream(benchSize, seed), buf); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		_ = f.Close()
		tWrite += time.Since(start)
		_ = os.Remove(f.Name())

		start = time.Now()
		info, _, err := e.s.Put(b.Context(), newStream(benchSize, seed), "")
		if err != nil {
			b.Fatal(err)
		}
		tPut += time.Since(start)
		_ = e.s.Delete(b.Context(), info.ID)
	}
	rate := func(d time.Duration) float64 { return float64(b.N) * benchSize / d.Seconds() / 1e6 }
	b.ReportMetric(rate(tHash), "hash-MB/s")
	b.ReportMetric(rate(tWrite), "write+fsync-MB/s")
	b.ReportMetric(rate(tPut), "put-MB/s")
	b.ReportMetric(tWrite.Seconds()/tPut.Seconds(), "put/write-ratio")
}

// BenchmarkReadPaired pairs a verified read of a stored blob with a plain
// read of its file from the page cache.
func BenchmarkReadPaired(b *testing.B) {
	e := newEnv(b)
	info, _, err := e.s.Put(b.Context(), newStream(benchSize, 1), "")
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, GroupSize)
	var tPlain, tBlob time.Duration
	for b.Loop() {
		start := time.Now()
		f, err := os.Open(e.s.finalPath(info.ID))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, io.LimitReader(f, benchSize), buf); err != nil {
			b.Fatal(err)
		}
		_ = f.Close()
		tPlain += time.Since(start)

		start = time.Now()
		r, err := e.s.Open(b.Context(), info.ID)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, r, buf); err != nil {
			b.Fatal(err)
		}
		_ = r.Close()
		tBlob += time.Since(start)
	}
	rate := func(d time.Duration) float64 { return float64(b.N) * benchSize / d.Seconds() / 1e6 }
	b.ReportMetric(rate(tPlain), "pagecache-MB/s")
	b.ReportMetric(rate(tBlob), "verified-MB/s")
	b.ReportMetric(tPlain.Seconds()/tBlob.Seconds(), "read/pagecache-ratio")
}

func BenchmarkRead(b *testing.B) {
	e := newEnv(b)
	info, _, err := e.s.Put(b.Context(), newStream(benchSize, 1), "")
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, GroupSize)
	b.Run("baseline-pagecache", func(b *testing.B) {
		b.SetBytes(benchSize)
		for b.Loop() {
			f, err := os.Open(e.s.finalPath(info.ID))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.CopyBuffer(io.Discard, io.LimitReader(f, benchSize), buf); err != nil {
				b.Fatal(err)
			}
			_ = f.Close()
		}
	})
	b.Run("open-read", func(b *testing.B) {
		b.SetBytes(benchSize)
		b.ReportAllocs()
		for b.Loop() {
			r, err := e.s.Open(b.Context(), info.ID)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.CopyBuffer(io.Discard, r, buf); err != nil {
				b.Fatal(err)
			}
			_ = r.Close()
		}
	})
	b.Run("readat-4KiB-random", func(b *testing.B) {
		r, err := e.s.Open(b.Context(), info.ID)
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		rng := rand.New(rand.NewPCG(1, 2))
		p := make([]byte, 4096)
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			if _, err := r.ReadAt(p, rng.Int64N(benchSize-4096)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkGroupHash is the measurement behind GroupSize: the cost of hashing
// a stream as groups of each candidate size (through guts, as Put and every
// verified read do), next to zeebo/blake3 on the same bytes.
func BenchmarkGroupHash(b *testing.B) {
	const n = 64 << 20
	data := randBytes(n, 3)
	b.Run("zeebo-sum256", func(b *testing.B) {
		b.SetBytes(n)
		for b.Loop() {
			blake3.Sum256(data)
		}
	})
	for _, gs := range []int{16 << 10, 32 << 10, 64 << 10, 128 << 10, 256 << 10} {
		b.Run(fmt.Sprintf("group-%dKiB", gs>>10), func(b *testing.B) {
			b.SetBytes(n)
			var h hasher
			for b.Loop() {
				for i := 0; i < n; i += gs {
					h.groupCV(data[i:i+gs], int64(i/gs), false)
				}
			}
		})
	}
}

// TestPutMemoryFlat checks that Put's allocations do not follow the blob
// size: 64 MiB allocate well under 2 MiB in total (two groups, 32 bytes per
// group of chaining values and the outboard).
func TestPutMemoryFlat(t *testing.T) {
	e := newEnv(t)
	alloc := func(n int64, seed uint64) uint64 {
		src := newStream(n, seed)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, _, err := e.s.Put(t.Context(), src, ""); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	small, big := alloc(1<<20, 1), alloc(64<<20, 2)
	t.Logf("allocated %d KiB for 1 MiB, %d KiB for 64 MiB", small>>10, big>>10)
	if big > 2<<20 {
		t.Errorf("a 64 MiB Put allocated %d KiB", big>>10)
	}
}
