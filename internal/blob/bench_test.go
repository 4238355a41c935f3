package blob

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
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
	plain := func() {
		start := time.Now()
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
	}
	var ratios []float64
	put := func() {
		start := time.Now()
		info, _, err := e.s.Put(b.Context(), newStream(benchSize, seed), "")
		if err != nil {
			b.Fatal(err)
		}
		tPut += time.Since(start)
		_ = e.s.Delete(b.Context(), info.ID)
	}
	for b.Loop() {
		seed++
		start := time.Now()
		h := blake3.New()
		if _, err := io.CopyBuffer(h, newStream(benchSize, seed), buf); err != nil {
			b.Fatal(err)
		}
		h.Sum(nil)
		tHash += time.Since(start)
		w0, p0 := tWrite, tPut
		if seed%2 == 0 { // alternate the order: neither always runs first
			plain()
			put()
		} else {
			put()
			plain()
		}
		ratios = append(ratios, (tWrite-w0).Seconds()/(tPut-p0).Seconds())
	}
	rate := func(d time.Duration) float64 { return float64(b.N) * benchSize / d.Seconds() / 1e6 }
	b.ReportMetric(rate(tHash), "hash-MB/s")
	b.ReportMetric(rate(tWrite), "write+fsync-MB/s")
	b.ReportMetric(rate(tPut), "put-MB/s")
	b.ReportMetric(tWrite.Seconds()/tPut.Seconds(), "put/write-ratio")
	b.ReportMetric(median(ratios), "put/write-median")
}

// median returns the median of per-iteration ratios, the figure least
// moved by other processes' bursts.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
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
	var ratios []float64
	for b.Loop() {
		p0, b0 := tPlain, tBlob
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
		ratios = append(ratios, (tPlain-p0).Seconds()/(tBlob-b0).Seconds())
	}
	rate := func(d time.Duration) float64 { return float64(b.N) * benchSize / d.Seconds() / 1e6 }
	b.ReportMetric(rate(tPlain), "pagecache-MB/s")
	b.ReportMetric(rate(tBlob), "verified-MB/s")
	b.ReportMetric(tPlain.Seconds()/tBlob.Seconds(), "read/pagecache-ratio")
	b.ReportMetric(median(ratios), "read/pagecache-median")
}

// BenchmarkServePaired pairs the two ways of answering a peer's request
// for 1 MiB of groups: through a verified Reader (the store's guarantee)
// and through OpenForPeer (unverified: the peer verifies), one open and
// one read per request as the blob protocol does, over a 256 MiB blob.
func BenchmarkServePaired(b *testing.B) {
	e := newEnv(b)
	info, _, err := e.s.Put(b.Context(), newStream(benchSize, 1), "")
	if err != nil {
		b.Fatal(err)
	}
	const req = 16 * GroupSize
	buf := make([]byte, req)
	type readerAt interface {
		io.ReaderAt
		io.Closer
	}
	serve := func(open func() (readerAt, error)) time.Duration {
		start := time.Now()
		for off := int64(0); off < benchSize; off += req {
			r, err := open()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := r.ReadAt(buf, off); err != nil {
				b.Fatal(err)
			}
			_ = r.Close()
		}
		return time.Since(start)
	}
	var tVerified, tPeer time.Duration
	var ratios []float64
	for b.Loop() {
		v := serve(func() (readerAt, error) { return e.s.Open(b.Context(), info.ID) })
		p := serve(func() (readerAt, error) { return e.s.OpenForPeer(b.Context(), info.ID) })
		tVerified += v
		tPeer += p
		ratios = append(ratios, v.Seconds()/p.Seconds())
	}
	rate := func(d time.Duration) float64 { return float64(b.N) * benchSize / d.Seconds() / 1e6 }
	b.ReportMetric(rate(tVerified), "verified-MB/s")
	b.ReportMetric(rate(tPeer), "peer-MB/s")
	b.ReportMetric(median(ratios), "peer/verified-speedup-median")
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

// BenchmarkGroupSize is the measurement behind GroupSize. For each
// candidate size, interleaved in every iteration (so load from other
// processes hits all alike), it reports the rate of hashing a stream as
// groups through guts (as Put and every verified read do) next to
// zeebo/blake3 on the same bytes, and the cost of a verified 4 KiB random
// read from the page cache, which must read and hash a whole group.
func BenchmarkGroupSize(b *testing.B) {
	const n = 64 << 20
	data := randBytes(n, 3)
	name := filepath.Join(b.TempDir(), "data")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sizes := []int{16 << 10, 32 << 10, 64 << 10, 128 << 10, 256 << 10}
	hashT := make([]time.Duration, len(sizes))
	readT := make([]time.Duration, len(sizes))
	var zeeboT time.Duration
	const reads = 500
	buf := make([]byte, 256<<10)
	rng := rand.New(rand.NewPCG(3, 4))
	var h hasher
	for b.Loop() {
		start := time.Now()
		blake3.Sum256(data)
		zeeboT += time.Since(start)
		for k, gs := range sizes {
			start = time.Now()
			for i := 0; i < n; i += gs {
				h.groupCV(data[i:i+gs], int64(i/gs), false)
			}
			hashT[k] += time.Since(start)
			start = time.Now()
			for range reads {
				g := rng.IntN(n / gs)
				if _, err := f.ReadAt(buf[:gs], int64(g*gs)); err != nil {
					b.Fatal(err)
				}
				h.groupCV(buf[:gs], int64(g), false)
			}
			readT[k] += time.Since(start)
		}
	}
	rate := func(d time.Duration) float64 { return float64(b.N) * n / d.Seconds() / 1e6 }
	b.ReportMetric(rate(zeeboT), "zeebo-MB/s")
	for k, gs := range sizes {
		b.ReportMetric(rate(hashT[k]), fmt.Sprintf("g%dK-MB/s", gs>>10))
		b.ReportMetric(float64(readT[k].Microseconds())/float64(b.N*reads), fmt.Sprintf("g%dK-read4K-us", gs>>10))
	}
}

// TestPutMemoryFlat checks that Put's allocations do not follow the blob
// size: a fixed 1.5 MiB of streaming buffers, plus 32 bytes per group of
// chaining values and 64 per group of outboard (about 0.2% of the size).
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
	if big > 3<<20 || big-small > 512<<10 {
		t.Errorf("a 64 MiB Put allocated %d KiB, %d KiB more than a 1 MiB one", big>>10, (big-small)>>10)
	}
}
