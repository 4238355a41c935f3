package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zeebo/blake3"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/nodeproc"
)

// stream yields size pseudo-random bytes; after stopAt bytes it announces
// itself on reached and then blocks until release is closed.
type stream struct {
	rng     *rand.ChaCha8
	left    int64
	sent    int64
	stopAt  int64
	reached chan struct{}
	release chan struct{}
}

func (s *stream) Read(p []byte) (int, error) {
	if s.left == 0 {
		return 0, io.EOF
	}
	if s.stopAt > 0 && s.sent >= s.stopAt {
		close(s.reached)
		s.stopAt = 0
		<-s.release
		return 0, errors.New("node killed")
	}
	n := int(min(int64(len(p)), s.left))
	if s.stopAt > 0 {
		n = int(min(int64(n), s.stopAt-s.sent))
	}
	s.rng.Read(p[:n])
	s.left -= int64(n)
	s.sent += int64(n)
	return n, nil
}

// TestKillDuringUpload streams a 256 MiB upload into a real node process,
// kills it with SIGKILL half-way, restarts it and checks that nothing
// partial is visible or left on disk and that the node works.
func TestKillDuringUpload(t *testing.T) {
	bin := nodeproc.Build(t)
	dataDir := t.TempDir()
	const size = 256 << 20
	seed := [32]byte{1, 2, 3}

	// The id the whole upload would have had.
	h := blake3.New()
	io.Copy(h, &stream{rng: rand.NewChaCha8(seed), left: size})
	var whole id.Blob
	h.Sum(whole[:0])

	p := nodeproc.Start(t, bin, dataDir)
	s := &stream{rng: rand.NewChaCha8(seed), left: size, stopAt: size / 2,
		reached: make(chan struct{}), release: make(chan struct{})}
	upload := make(chan error, 1)
	go func() {
		_, err := p.Client.UploadBlob(context.Background(), s, size, "application/octet-stream")
		upload <- err
	}()
	<-s.reached
	blobDir := filepath.Join(dataDir, "blobs")
	deadline := time.Now().Add(30 * time.Second)
	for len(tempFiles(t, blobDir)) == 0 { // the node has started writing
		if time.Now().After(deadline) {
			t.Fatal("no temporary file while half the upload was sent")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := p.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.Done
	close(s.release)
	if err := <-upload; err == nil {
		t.Fatal("upload succeeded although the node was killed")
	}

	p = nodeproc.Start(t, bin, dataDir)
	if left := tempFiles(t, blobDir); len(left) != 0 {
		t.Errorf("temporary files left after restart: %v", left)
	}
	if _, err := p.Client.BlobInfo(t.Context(), whole.String()); !client.IsNotFound(err) {
		t.Errorf("info of the interrupted blob: %v, want 404", err)
	}
	ref, err := p.Client.UploadBlob(t.Context(), strings.NewReader("after the crash"), 15, "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := p.Client.GetBlob(t.Context(), ref.ID, &got); err != nil || got.String() != "after the crash" {
		t.Fatalf("node does not work after restart: %q, %v", got.String(), err)
	}

	// A clean stop: SIGINT, exit status 0.
	p.Cmd.Process.Signal(os.Interrupt)
	if err := <-p.Done; err != nil {
		t.Fatalf("exit after SIGINT: %v\n%s", err, p.Out.String())
	}
	if !strings.Contains(p.Out.String(), "Node stopped.") {
		t.Errorf("output lacks the stop line:\n%s", p.Out.String())
	}
}

// tempFiles lists what in dir is not a finished blob file.
func tempFiles(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || strings.HasSuffix(e.Name(), ".part") {
			out = append(out, e.Name())
		}
	}
	return out
}
