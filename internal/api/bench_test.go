package api

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

const benchSize = 64 << 20

// BenchmarkPutBlob uploads 64 MiB through the real server (durable: the
// store syncs before answering). bench/blobbench compares the same path
// with dd conv=fsync.
func BenchmarkPutBlob(b *testing.B) {
	n := newTestNode(b, nil)
	data := randomBytes(b, benchSize)
	b.SetBytes(benchSize)
	for i := 0; b.Loop(); i++ {
		data[0], data[1] = byte(i), byte(i>>8) // new bytes each time
		resp, err := http.Post(n.url+"/blobs", "", bytes.NewReader(data))
		if err != nil || resp.StatusCode != http.StatusCreated {
			b.Fatalf("upload: %v %v", resp, err)
		}
		resp.Body.Close()
	}
}

// BenchmarkGetBlob downloads 64 MiB through the real server into
// io.Discard; the server verifies every byte. Compare with the store's
// BenchmarkRead; bench/blobbench compares with cat.
func BenchmarkGetBlob(b *testing.B) {
	n := newTestNode(b, nil)
	blobID := n.upload(randomBytes(b, benchSize), "")
	buf := make([]byte, 256<<10)
	b.SetBytes(benchSize)
	for b.Loop() {
		resp, err := http.Get(n.url + "/blobs/" + blobID)
		if err != nil {
			b.Fatal(err)
		}
		if m, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{resp.Body}, buf); err != nil || m != benchSize {
			b.Fatalf("download: %d bytes, %v", m, err)
		}
		resp.Body.Close()
	}
}
