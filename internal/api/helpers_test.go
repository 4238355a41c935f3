package api

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/google/go-cmp/cmp"

	"github.com/onvm-network/onvm/client/wire"
	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/config"
)

var update = flag.Bool("update", false, "rewrite golden files")

// testNode is an API server on a real listener over a real blob store.
type testNode struct {
	t     testing.TB
	srv   *Server
	store *blob.Store
	dir   string // blob directory
	url   string
}

type quietPebble struct{}

func (quietPebble) Infof(string, ...any)  {}
func (quietPebble) Errorf(string, ...any) {}
func (quietPebble) Fatalf(format string, args ...any) {
	panic("pebble: " + format)
}

var fixedNow = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func newTestNode(t testing.TB, modify func(*Options)) *testNode {
	t.Helper()
	db, err := pebble.Open("db", &pebble.Options{FS: vfs.NewMem(), Logger: quietPebble{}})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "blobs")
	rpc := config.Default().RPC
	store, err := blob.Open(blob.Options{Dir: dir, DB: db, MaxSize: rpc.MaxBlobSize})
	if err != nil {
		t.Fatal(err)
	}
	// Registered before modify's cleanups, so it runs after them: a job
	// service still copying a payload into the store closes first.
	t.Cleanup(func() {
		store.Close()
		db.Close()
	})
	opts := Options{
		RPC:     rpc,
		Jobs:    config.Default().Jobs,
		Version: "test",
		Blobs:   store,
		Logger:  slog.New(slog.DiscardHandler),
		Now:     func() time.Time { return fixedNow },
		Resources: func() Sample {
			return Sample{Resources: wire.Resources{CPUPercent: 1.5, MemoryUsedBytes: 100 << 20, MemoryPercent: 1.25}, CPUCores: 2, TotalMemory: 8 << 30}
		},
	}
	if modify != nil {
		modify(&opts)
	}
	srv := New(opts)
	ln, err := Listen(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		if err := srv.Shutdown(t.Context()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &testNode{t: t, srv: srv, store: store, dir: dir, url: "http://" + ln.Addr().String()}
}

// reply is a response whose body was read and closed.
type reply struct {
	StatusCode    int
	Header        http.Header
	ContentLength int64
}

// do sends one request and returns the response with its body read.
func (n *testNode) do(method, path string, header http.Header, body io.Reader) (*reply, []byte) {
	n.t.Helper()
	req, err := http.NewRequestWithContext(n.t.Context(), method, n.url+path, body)
	if err != nil {
		n.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		n.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	if err := checkAnswer(req, resp, b); err != nil {
		n.t.Errorf("%s %s: the answer does not match openapi.json: %v", method, path, err)
	}
	return &reply{StatusCode: resp.StatusCode, Header: resp.Header, ContentLength: resp.ContentLength}, b
}

// upload stores data and returns its id text.
func (n *testNode) upload(data []byte, mime string) string {
	n.t.Helper()
	h := http.Header{}
	if mime != "" {
		h.Set("X-Mime", mime)
	}
	resp, body := n.do("POST", "/blobs", h, bytes.NewReader(data))
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		n.t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	var ref struct{ ID string }
	if err := json.Unmarshal(body, &ref); err != nil {
		n.t.Fatal(err)
	}
	return ref.ID
}

// tempFiles lists the blob directory's temporary files.
func (n *testNode) tempFiles() []string {
	entries, _ := os.ReadDir(n.dir)
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
