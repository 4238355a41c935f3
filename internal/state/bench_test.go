package state

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"

	"github.com/onvm-network/onvm/internal/id"
)

// benchKeys is the size of the benchmark state: 1,000,000 keys, or
// ONVM_STATE_BENCH_KEYS.
func benchKeys() int {
	if n, err := strconv.Atoi(os.Getenv("ONVM_STATE_BENCH_KEYS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

func benchKey(i int) []byte { return fmt.Appendf(nil, "key-%08d", i) }

func benchValue(i, gen int) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i)<<16|uint64(gen))
	v := id.Sum(b[:])
	return v[:]
}

// benchFixture opens the benchmark state: n keys (benchKey(i) =
// benchValue(i, 0)) in one program, built once and kept in a directory
// under the temp dir so that later runs reuse it. Benchmarks that write
// overwrite existing keys only, so the key set stays the same.
func benchFixture(b *testing.B, n int) (*Store, *pebble.DB, id.Program) {
	b.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("onvm-state-bench-%d-v%d-bloom", n, formatVersion))
	done := filepath.Join(dir, "complete")
	if _, err := os.Stat(done); err != nil {
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
	}
	// Pebble configured as a node serving state should be: a block cache
	// that holds the working set (the default 8 MiB would make every figure
	// a measure of file reads and block decompression) and bloom filters,
	// since nearly every read is a point lookup of a hash-named record.
	cache := pebble.NewCache(512 << 20)
	opts := &pebble.Options{Cache: cache}
	opts.Levels[0].FilterPolicy = bloom.FilterPolicy(10)
	db, err := pebble.Open(dir, opts)
	cache.Unref()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	s, err := Open(db)
	if err != nil {
		b.Fatal(err)
	}
	p := prog("bench")
	if _, err := os.Stat(done); err == nil {
		warm(b, db, n)
		return s, db, p
	}
	// Keys go in in key-hash order, in chunks: each chunk then fills a
	// part of the tree no earlier chunk touched, so building reads and
	// rewrites only the few records above it, as a state sync would.
	start := time.Now()
	order := make([]int, n)
	khs := make([]id.Hash, n)
	for i := range order {
		order[i], khs[i] = i, keyHash(benchKey(i))
	}
	slices.SortFunc(order, func(a, b int) int { return bytes.Compare(khs[a][:], khs[b][:]) })
	const chunk = 50_000
	root := EmptyRoot
	for lo := 0; lo < n; lo += chunk {
		ws := make([]Write, 0, chunk)
		for _, i := range order[lo:min(n, lo+chunk)] {
			ws = append(ws, Write{Key: benchKey(i), Value: benchValue(i, 0)})
		}
		batch := db.NewBatch()
		if root, err = s.Apply(batch, p, root, ws); err != nil {
			b.Fatal(err)
		}
		if err := batch.Commit(pebble.NoSync); err != nil {
			b.Fatal(err)
		}
		_ = batch.Close()
	}
	if err := db.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := db.Compact(b.Context(), []byte("s/"), []byte("s0"), true); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %d-key fixture in %v (root %s)", n, time.Since(start).Round(time.Millisecond), root)
	if err := os.WriteFile(done, []byte(root.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	warm(b, db, n)
	return s, db, p
}

// warm reads the whole store once, as a running node's block cache would
// hold it, and logs its size per key: logical bytes (key + value) and
// record counts by namespace, and pebble's estimate of the disk space.
func warm(b *testing.B, db *pebble.DB, n int) {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte("s/"), UpperBound: []byte("s0")})
	if err != nil {
		b.Fatal(err)
	}
	type usage struct{ records, bytes int }
	byNS := map[string]*usage{}
	for it.First(); it.Valid(); it.Next() {
		v, _ := it.ValueAndErr()
		ns := string(it.Key()[:min(4, len(it.Key()))])
		if byNS[ns] == nil {
			byNS[ns] = &usage{}
		}
		byNS[ns].records++
		byNS[ns].bytes += len(it.Key()) + len(v)
	}
	if err := it.Close(); err != nil {
		b.Fatal(err)
	}
	disk, err := db.EstimateDiskUsage([]byte("s/"), []byte("s0"))
	if err != nil {
		b.Fatal(err)
	}
	total := 0
	for ns, u := range byNS {
		total += u.bytes
		b.Logf("%-4s %9d records %6.2f per key %7.1f B/key", ns, u.records, float64(u.records)/float64(n), float64(u.bytes)/float64(n))
	}
	b.Logf("logical %.1f B/key, on disk %.1f B/key (%d keys)", float64(total)/float64(n), float64(disk)/float64(n), n)
}

// cpuNs returns the CPU time this process has used, all threads.
func cpuNs() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkState measures, in one run, the raw node hash (the baseline every
// other figure is divided by, reported as "hashes": the cost in raw node
// hashes) and the tree's costs on a state of benchKeys() keys: updates of
// existing keys staged into a batch, singly and in batches (per key), with
// commit, proofs, verification and reads.
func BenchmarkState(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a large state")
	}
	var rawNs float64
	benchHashes(b, &rawNs)
	n := benchKeys()
	s, db, p := benchFixture(b, n)
	// s has the default record cache and big one of twice the size; both
	// are filled first by reading every branch once, as a node that has
	// served the program for a while would have them.
	big, err := OpenWith(db, Options{CacheBytes: int64(n) * 2 * cacheRecordBytes})
	if err != nil {
		b.Fatal(err)
	}
	root0, err := s.Root(p)
	if err != nil {
		b.Fatal(err)
	}
	for _, st := range []*Store{s, big} {
		if err := st.mark(b.Context(), p, root0, map[id.Hash]struct{}{}); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("default record cache after warming: %s", s.cache.fill())
	caches := []struct {
		name string
		s    *Store
	}{{"", s}, {"/cache=all", big}}
	rng := rand.New(rand.NewPCG(1, 1))
	// perKey reports wall and CPU time per key (the machine may be
	// shared: CPU time, all threads including pebble's and the GC's, is
	// the steadier figure) and the CPU time as a number of raw node hashes
	// (the CPU time of one, measured in this run).
	var cpu0 int64
	var hits0, misses0 uint64
	var st *Store // the store whose cache perKey reports on, if any
	perKey := func(b *testing.B, keys int) {
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(keys)
		cpu := float64(cpuNs()-cpu0) / float64(b.N) / float64(keys)
		b.ReportMetric(ns, "ns/key")
		b.ReportMetric(cpu, "cpu-ns/key")
		if st != nil && st.cache != nil {
			h, m := st.cache.stats()
			b.ReportMetric(float64(m-misses0)/float64(b.N)/float64(keys), "misses/key")
			b.ReportMetric(float64(h-hits0+m-misses0)/float64(b.N)/float64(keys), "reads/key")
			st = nil
		}
		if rawNs > 0 {
			b.ReportMetric(cpu/rawNs, "hashes/key")
		}
	}
	type updateCase struct {
		k      int
		serial bool
		s      *Store
		cache  string
	}
	cases := []updateCase{{1, false, s, ""}, {10, false, s, ""}, {100, false, s, ""}, {1000, false, s, ""}, {1000, true, s, ""}}
	cases = append(cases, updateCase{1, false, big, caches[1].name}, updateCase{1000, false, big, caches[1].name})
	for _, c := range cases {
		k, s := c.k, c.s
		name := fmt.Sprintf("update/batch=%d", k)
		if c.serial {
			name += "/one-core"
		}
		b.Run(name+c.cache, func(b *testing.B) {
			if c.serial {
				parallel = false
				defer func() { parallel = true }()
			}
			root, err := s.Root(p)
			if err != nil {
				b.Fatal(err)
			}
			batch := db.NewBatch()
			defer batch.Close()
			ws := make([]Write, k)
			st = s
			if s.cache != nil {
				hits0, misses0 = s.cache.stats()
			}
			cpu0 = cpuNs()
			for b.Loop() {
				for j := range ws {
					i := rng.IntN(n)
					ws[j] = Write{Key: benchKey(i), Value: benchValue(i, 1+rng.IntN(1000))}
				}
				if _, err := s.Apply(batch, p, root, ws); err != nil {
					b.Fatal(err)
				}
				batch.Reset()
			}
			perKey(b, k)
		})
	}
	b.Run("update/commit", func(b *testing.B) {
		cpu0 = cpuNs()
		for b.Loop() {
			i := rng.IntN(n)
			root, err := s.Root(p)
			if err != nil {
				b.Fatal(err)
			}
			batch := db.NewBatch()
			if _, err := s.Apply(batch, p, root, []Write{{Key: benchKey(i), Value: benchValue(i, 1+rng.IntN(1000))}}); err != nil {
				b.Fatal(err)
			}
			if err := batch.Commit(pebble.NoSync); err != nil {
				b.Fatal(err)
			}
			_ = batch.Close()
		}
		perKey(b, 1)
	})
	root, err := s.Root(p)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range caches {
		b.Run("prove/present"+c.name, func(b *testing.B) {
			cpu0 = cpuNs()
			for b.Loop() {
				if _, err := c.s.Prove(p, root, benchKey(rng.IntN(n))); err != nil {
					b.Fatal(err)
				}
			}
			perKey(b, 1)
		})
	}
	b.Run("prove/absent", func(b *testing.B) {
		cpu0 = cpuNs()
		for b.Loop() {
			if _, err := s.Prove(p, root, benchKey(n+rng.IntN(n))); err != nil {
				b.Fatal(err)
			}
		}
		perKey(b, 1)
	})
	pr, err := s.Prove(p, root, benchKey(n/2))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("verify", func(b *testing.B) {
		cpu0 = cpuNs()
		for b.Loop() {
			if err := pr.Verify(); err != nil {
				b.Fatal(err)
			}
		}
		perKey(b, 1)
	})
	b.Run("get", func(b *testing.B) {
		cpu0 = cpuNs()
		for b.Loop() {
			if _, _, err := s.Get(p, benchKey(rng.IntN(n))); err != nil {
				b.Fatal(err)
			}
		}
		perKey(b, 1)
	})
}
