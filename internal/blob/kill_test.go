package blob

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

const killDirEnv = "ONVM_BLOB_KILL_DIR"

// TestKillDuringPut runs a store in a child process, kills it with SIGKILL
// in the middle of a Put, and reopens the store: the blob stored before is
// intact, the interrupted one left nothing.
func TestKillDuringPut(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), killDirEnv+"="+dir)
	stdin, err := cmd.StdinPipe() // the child's upload blocks reading it
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child: %q, %v", line, err)
	}
	blobDir := filepath.Join(dir, "blobs")
	ents, _ := os.ReadDir(blobDir)
	tmp := 0
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			tmp++
		}
	}
	if tmp != 1 {
		t.Errorf("before the kill: %d temporary files, want 1", tmp)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	db, err := pebble.Open(filepath.Join(dir, "db"), &pebble.Options{Logger: quietLog{}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := Open(Options{Dir: blobDir, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	kept := killKept()
	ents, _ = os.ReadDir(blobDir)
	if len(ents) != 1 || ents[0].Name() != hexName(kept) {
		t.Errorf("files after restart: %v", ents)
	}
	if n, _ := s.Usage(); n != 1 {
		t.Errorf("usage %d blobs, want 1", n)
	}
	r, err := s.Open(t.Context(), idOf(kept))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, kept) {
		t.Errorf("blob stored before the kill: %v", err)
	}
}

func killKept() []byte { return randBytes(3*GroupSize+1, 99) }

// TestKillHelper is the child process of TestKillDuringPut.
func TestKillHelper(t *testing.T) {
	dir := os.Getenv(killDirEnv)
	if dir == "" {
		t.Skip("child process of TestKillDuringPut")
	}
	db, err := pebble.Open(filepath.Join(dir, "db"), &pebble.Options{Logger: quietLog{}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(Options{Dir: filepath.Join(dir, "blobs"), DB: db})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Put(t.Context(), bytes.NewReader(killKept()), ""); err != nil {
		t.Fatal(err)
	}
	// 2 MiB, then "ready", then block on stdin until killed.
	r := io.MultiReader(bytes.NewReader(randBytes(2<<20, 1)), readyThen{os.Stdin})
	_, _, err = s.Put(t.Context(), r, "")
	t.Fatalf("Put returned: %v", err)
}

type readyThen struct{ r io.Reader }

func (rt readyThen) Read(p []byte) (int, error) {
	os.Stdout.WriteString("ready\n")
	return rt.r.Read(p)
}
