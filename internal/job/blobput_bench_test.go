package job

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/blob"
)

// BenchmarkBlobPutTiny is the cost the job system pays per inline input
// and per output: a durable blob.Put of a few bytes, 32 at a time.
func BenchmarkBlobPutTiny(b *testing.B) {
	dir := b.TempDir()
	db, err := pebble.Open(filepath.Join(dir, "db"), &pebble.Options{Logger: quiet{}})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	bs, err := blob.Open(blob.Options{Dir: filepath.Join(dir, "blobs"), DB: db})
	if err != nil {
		b.Fatal(err)
	}
	defer bs.Close()
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 32 {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if _, _, err := bs.Put(context.Background(), bytes.NewReader(fmt.Appendf(nil, "hello-%d", i)), ""); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "puts/s")
}
