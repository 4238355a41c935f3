package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/id"
)

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGetBlobRanges(t *testing.T) {
	n := newTestNode(t, nil)
	size := 2*blob.GroupSize + 17
	data := randomBytes(t, size)
	blobID := n.upload(data, "")
	g := blob.GroupSize
	tests := []struct {
		name       string
		rng        string
		wantStatus int
		from, to   int // inclusive range expected in the body
	}{
		{"whole", "", 200, 0, size - 1},
		{"first byte", "bytes=0-0", 206, 0, 0},
		{"last byte", fmt.Sprintf("bytes=%d-%d", size-1, size-1), 206, size - 1, size - 1},
		{"suffix", "bytes=-1", 206, size - 1, size - 1},
		{"suffix longer than blob", fmt.Sprintf("bytes=-%d", size+10), 206, 0, size - 1},
		{"open ended", fmt.Sprintf("bytes=%d-", size-5), 206, size - 5, size - 1},
		{"end past size is clipped", fmt.Sprintf("bytes=%d-%d", size-2, size+100), 206, size - 2, size - 1},
		{"across group boundary", fmt.Sprintf("bytes=%d-%d", g-1, g), 206, g - 1, g},
		{"exactly one group", fmt.Sprintf("bytes=%d-%d", g, 2*g-1), 206, g, 2*g - 1},
		{"start at size", fmt.Sprintf("bytes=%d-", size), 416, 0, 0},
		{"start past size", fmt.Sprintf("bytes=%d-%d", size+1, size+2), 416, 0, 0},
		{"malformed", "bytes=x-y", 416, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.rng != "" {
				h.Set("Range", tt.rng)
			}
			resp, body := n.do("GET", "/blobs/"+blobID, h, nil)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantStatus == 416 {
				if tt.name != "malformed" && resp.Header.Get("Content-Range") != fmt.Sprintf("bytes */%d", size) {
					t.Errorf("Content-Range = %q", resp.Header.Get("Content-Range"))
				}
				if !strings.Contains(string(body), `"range_not_satisfiable"`) {
					t.Errorf("416 body %s", body)
				}
				return
			}
			if !bytes.Equal(body, data[tt.from:tt.to+1]) {
				t.Fatalf("body of %d bytes differs from data[%d:%d]", len(body), tt.from, tt.to+1)
			}
			if tt.wantStatus == 206 {
				want := fmt.Sprintf("bytes %d-%d/%d", tt.from, tt.to, size)
				if got := resp.Header.Get("Content-Range"); got != want {
					t.Errorf("Content-Range = %q, want %q", got, want)
				}
			}
		})
	}
}

func TestGetBlobMultiRange(t *testing.T) {
	n := newTestNode(t, nil)
	data := randomBytes(t, 1000)
	blobID := n.upload(data, "")
	resp, body := n.do("GET", "/blobs/"+blobID, http.Header{"Range": {"bytes=0-9,990-999"}}, nil)
	if resp.StatusCode != 206 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/byteranges" {
		t.Fatalf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for _, want := range [][]byte{data[0:10], data[990:1000]} {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(p)
		if !bytes.Equal(got, want) {
			t.Errorf("part %q, want %q", got, want)
		}
	}
}

func TestGetBlobConditionalAndHead(t *testing.T) {
	n := newTestNode(t, nil)
	data := []byte("conditional")
	blobID := n.upload(data, "text/plain")
	etag := `"` + blobID + `"`

	resp, body := n.do("GET", "/blobs/"+blobID, http.Header{"If-None-Match": {etag}}, nil)
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("If-None-Match: %d %q, want 304 and no body", resp.StatusCode, body)
	}
	resp, body = n.do("GET", "/blobs/"+blobID, http.Header{"If-None-Match": {`"other"`}}, nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Errorf("other ETag: %d %q", resp.StatusCode, body)
	}
	resp, body = n.do("HEAD", "/blobs/"+blobID, nil, nil)
	if resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength != int64(len(data)) {
		t.Errorf("HEAD: %d, %d body bytes, Content-Length %d", resp.StatusCode, len(body), resp.ContentLength)
	}
	resp, _ = n.do("HEAD", "/blobs/"+id.BlobOf([]byte("x")).String(), nil, nil)
	if resp.StatusCode != 404 {
		t.Errorf("HEAD unknown: %d", resp.StatusCode)
	}
}

func TestUploadTooLargeWhileStreaming(t *testing.T) {
	n := newTestNode(t, func(o *Options) { o.RPC.MaxBlobSize = 3 * blob.GroupSize })
	// No Content-Length: the limit must be found while streaming.
	body := io.MultiReader(bytes.NewReader(randomBytes(t, 5*blob.GroupSize)))
	req, _ := http.NewRequestWithContext(t.Context(), "POST", n.url+"/blobs", struct{ io.Reader }{body})
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), `"too_large"`) {
		t.Fatalf("got %d %s, want 413 too_large", resp.StatusCode, b)
	}
	if blobs, _ := n.store.Usage(); blobs != 0 {
		t.Errorf("%d blobs stored after a rejected upload", blobs)
	}
	waitFor(t, "temp files removed", func() bool { return len(n.tempFiles()) == 0 })
	// Exactly the limit is fine.
	n.upload(randomBytes(t, 3*blob.GroupSize), "")
}

func TestCorruptBlobIsAnError(t *testing.T) {
	n := newTestNode(t, nil)
	data := randomBytes(t, 3*blob.GroupSize)
	blobID := n.upload(data, "")
	b, _ := id.ParseBlob(blobID)
	path := filepath.Join(n.dir, id.Hash(b).String())

	corrupt := func(off int64) {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		one := []byte{0}
		f.ReadAt(one, off)
		one[0] ^= 0xff
		if _, err := f.WriteAt(one, off); err != nil {
			t.Fatal(err)
		}
	}
	// A bad byte in the last group: the first groups go out, then the
	// connection is cut, so the client sees an error, never bad bytes.
	corrupt(int64(2*blob.GroupSize + 5))
	req, _ := http.NewRequestWithContext(t.Context(), "GET", n.url+"/blobs/"+blobID, nil)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		got, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr == nil {
			t.Fatalf("read %d bytes of a corrupt blob without error (status %d)", len(got), resp.StatusCode)
		}
		if !bytes.Equal(got, data[:len(got)]) {
			t.Fatal("received bytes differ from the original")
		}
	}
	// The store has now marked it incomplete, or a first-group error: either
	// way an error status with the JSON shape.
	resp2, body := n.do("GET", "/blobs/"+blobID, nil, nil)
	if resp2.StatusCode < 400 || !strings.Contains(string(body), `"error"`) {
		t.Fatalf("after corruption: %d %s", resp2.StatusCode, body)
	}
}

func TestCorruptFirstGroupGivesJSON500(t *testing.T) {
	n := newTestNode(t, nil)
	data := randomBytes(t, 2*blob.GroupSize)
	blobID := n.upload(data, "")
	b, _ := id.ParseBlob(blobID)
	path := filepath.Join(n.dir, id.Hash(b).String())
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{data[3] ^ 1}, 3)
	f.Close()
	resp, body := n.do("GET", "/blobs/"+blobID, nil, nil)
	if resp.StatusCode != 500 || !strings.Contains(string(body), `"corrupt"`) {
		t.Fatalf("got %d %s, want 500 corrupt", resp.StatusCode, body)
	}
}

func TestConcurrentUploadsOfSameBytes(t *testing.T) {
	n := newTestNode(t, nil)
	data := randomBytes(t, 3*blob.GroupSize+1)
	const clients = 8
	var wg sync.WaitGroup
	codes := make([]int, clients)
	ids := make([]string, clients)
	for i := range clients {
		wg.Go(func() {
			resp, err := http.Post(n.url+"/blobs", "application/octet-stream", bytes.NewReader(data))
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var ref struct{ ID string }
			if err := json.NewDecoder(resp.Body).Decode(&ref); err != nil {
				t.Error(err)
			}
			codes[i], ids[i] = resp.StatusCode, ref.ID
		})
	}
	wg.Wait()
	created := 0
	for i := range clients {
		if ids[i] != id.BlobOf(data).String() {
			t.Errorf("client %d got id %s", i, ids[i])
		}
		switch codes[i] {
		case 201:
			created++
		case 200:
		default:
			t.Errorf("client %d got status %d", i, codes[i])
		}
	}
	if created != 1 {
		t.Errorf("%d uploads reported 201, want exactly 1", created)
	}
	if blobs, bytes := n.store.Usage(); blobs != 1 || bytes != int64(len(data)) {
		t.Errorf("Usage = %d blobs, %d bytes; want stored once", blobs, bytes)
	}
	entries, _ := os.ReadDir(n.dir)
	if len(entries) != 1 {
		t.Errorf("blob dir holds %d entries, want 1", len(entries))
	}
}

func TestClientDisconnectLeavesNothing(t *testing.T) {
	n := newTestNode(t, nil)
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, "POST", n.url+"/blobs", pr)
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	if _, err := pw.Write(randomBytes(t, 2*blob.GroupSize)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "upload to start", func() bool { return len(n.tempFiles()) > 0 })
	cancel()
	pw.CloseWithError(errors.New("client gone"))
	if err := <-done; err == nil {
		t.Fatal("request succeeded")
	}
	waitFor(t, "temp files removed", func() bool { return len(n.tempFiles()) == 0 })
	if blobs, _ := n.store.Usage(); blobs != 0 {
		t.Errorf("%d blobs visible after an aborted upload", blobs)
	}
}

// TestStalledUploadIsCut sends headers and part of a body, then nothing: the
// server must drop the connection after stream_idle_timeout.
func TestStalledUploadIsCut(t *testing.T) {
	n := newTestNode(t, func(o *Options) { o.RPC.StreamIdleTimeout = 300 * time.Millisecond })
	conn, err := net.Dial("tcp", strings.TrimPrefix(n.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /blobs HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
	conn.Write(randomBytes(t, 1000))
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, _ := io.ReadAll(conn) // returns when the server closes
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("server held a stalled upload for %v", elapsed)
	}
	if len(resp) > 0 && !bytes.Contains(resp, []byte("upload_aborted")) {
		t.Errorf("unexpected response %q", resp)
	}
	waitFor(t, "temp files removed", func() bool { return len(n.tempFiles()) == 0 })
}

// TestSlowUploadSurvives sends a body slower than any fixed read timeout
// would allow but always within the idle timeout: it must succeed.
func TestSlowUploadSurvives(t *testing.T) {
	n := newTestNode(t, func(o *Options) {
		o.RPC.ReadTimeout = 100 * time.Millisecond
		o.RPC.StreamIdleTimeout = 2 * time.Second
		o.RPC.StreamMinRate = 1
	})
	data := randomBytes(t, 10)
	pr, pw := io.Pipe()
	go func() {
		for i := range data {
			pw.Write(data[i : i+1])
			time.Sleep(30 * time.Millisecond) // pacing the client, not synchronising
		}
		pw.Close()
	}()
	resp, body := n.do("POST", "/blobs", nil, pr)
	if resp.StatusCode != 201 || !strings.Contains(string(body), id.BlobOf(data).String()) {
		t.Fatalf("slow upload: %d %s", resp.StatusCode, body)
	}
}
