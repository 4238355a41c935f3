package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zeebo/blake3"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/internal/id"
)

// buildBinary builds the real onvm binary once per test.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binary with")
	}
	bin := filepath.Join(t.TempDir(), "onvm")
	out, err := exec.Command(gobin, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proc is a running `onvm run-node`.
type proc struct {
	cmd    *exec.Cmd
	out    *bytes.Buffer
	client *client.Client
	done   chan error
}

func startNode(t *testing.T, bin, dataDir string) *proc {
	t.Helper()
	os.Remove(filepath.Join(dataDir, "rpc.url")) // a killed node leaves it behind
	cmd := exec.Command(bin, "run-node", "--dev", "--data-dir", dataDir,
		"--rpc", "127.0.0.1:0", "--listen", "/ip4/127.0.0.1/tcp/0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, out: &out, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(filepath.Join(dataDir, "rpc.url")); err == nil {
			c, err := client.New(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Readiness(t.Context()); err == nil {
				p.client = c
				return p
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("node exited: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("node not ready after 30s\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond) // polling for readiness
	}
}

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
	bin := buildBinary(t)
	dataDir := t.TempDir()
	const size = 256 << 20
	seed := [32]byte{1, 2, 3}

	// The id the whole upload would have had.
	h := blake3.New()
	io.Copy(h, &stream{rng: rand.NewChaCha8(seed), left: size})
	var whole id.Blob
	h.Sum(whole[:0])

	p := startNode(t, bin, dataDir)
	s := &stream{rng: rand.NewChaCha8(seed), left: size, stopAt: size / 2,
		reached: make(chan struct{}), release: make(chan struct{})}
	upload := make(chan error, 1)
	go func() {
		_, err := p.client.UploadBlob(context.Background(), s, size, "application/octet-stream")
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
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done
	close(s.release)
	if err := <-upload; err == nil {
		t.Fatal("upload succeeded although the node was killed")
	}

	p = startNode(t, bin, dataDir)
	if left := tempFiles(t, blobDir); len(left) != 0 {
		t.Errorf("temporary files left after restart: %v", left)
	}
	if _, err := p.client.BlobInfo(t.Context(), whole.String()); !client.IsNotFound(err) {
		t.Errorf("info of the interrupted blob: %v, want 404", err)
	}
	ref, err := p.client.UploadBlob(t.Context(), strings.NewReader("after the crash"), 15, "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := p.client.GetBlob(t.Context(), ref.ID, &got); err != nil || got.String() != "after the crash" {
		t.Fatalf("node does not work after restart: %q, %v", got.String(), err)
	}

	// A clean stop: SIGINT, exit status 0.
	p.cmd.Process.Signal(os.Interrupt)
	if err := <-p.done; err != nil {
		t.Fatalf("exit after SIGINT: %v\n%s", err, p.out.String())
	}
	if !strings.Contains(p.out.String(), "Node stopped.") {
		t.Errorf("output lacks the stop line:\n%s", p.out.String())
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
