// Package nodeproc runs the real `onvm` binary as a child process for tests
// that must kill it (kill -9) and start it again on the same data
// directory. It is for tests only: nothing in the node imports it.
package nodeproc

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onvm-network/onvm/client"
)

// Build compiles cmd/onvm into a temporary directory and returns its path.
// It skips the test under -short or without a go command.
func Build(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binary with")
	}
	bin := filepath.Join(t.TempDir(), "onvm")
	out, err := exec.Command(gobin, "build", "-o", bin, "github.com/onvm-network/onvm/cmd/onvm").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// Proc is a running `onvm run-node`.
type Proc struct {
	Cmd    *exec.Cmd
	Out    *bytes.Buffer // stdout and stderr
	Client *client.Client
	Done   chan error // receives Wait's result once the process exits
}

// Start runs `bin run-node --dev` on dataDir (API and P2P on free loopback
// ports) with env added to the environment, and returns once the node
// answers readiness. The test's cleanup kills it if it still runs.
func Start(t testing.TB, bin, dataDir string, env ...string) *Proc {
	t.Helper()
	_ = os.Remove(filepath.Join(dataDir, "rpc.url")) // a killed node leaves it behind
	cmd := exec.Command(bin, "run-node", "--dev", "--data-dir", dataDir,
		"--rpc", "127.0.0.1:0", "--listen", "/ip4/127.0.0.1/tcp/0")
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Proc{Cmd: cmd, Out: &out, Done: make(chan error, 1)}
	go func() { p.Done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			if err := <-p.Done; err != nil {
				t.Logf("node stopped at cleanup: %v", err) // "signal: killed" is expected
			}
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if b, err := os.ReadFile(filepath.Join(dataDir, "rpc.url")); err == nil {
			c, err := client.New(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Readiness(t.Context()); err == nil {
				p.Client = c
				return p
			}
		}
		select {
		case err := <-p.Done:
			t.Fatalf("node exited: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("node not ready after 60s\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond) // polling for readiness
	}
}
