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
// It skips the test under -short, and without a go command unless it runs
// in CI (CI set), where a missing tool must fail rather than turn the test
// into a skip.
func Build(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no go command to build the binary with: %v", err)
		}
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
	Cmd *exec.Cmd
	// Out collects stdout and stderr. Read it only after the process has
	// exited (after a receive from Done): until then the child's output is
	// still being copied into it.
	Out    *bytes.Buffer
	Client *client.Client
	Done   chan error // receives Wait's result once the process exits

	exited  chan struct{} // closed once Wait has returned
	waitErr error         // Wait's result; read after exited is closed
}

// Options configure StartWith. The zero value is what Start runs.
type Options struct {
	// Listen replaces the P2P listen address (default
	// "/ip4/127.0.0.1/tcp/0", a free loopback port).
	Listen string
	// Args are added to the run-node command line.
	Args []string
	// Env is added to the environment.
	Env []string
}

// Start runs `bin run-node --dev` on dataDir (API and P2P on free loopback
// ports) with env added to the environment, and returns once the node
// answers readiness. The test's cleanup kills it if it still runs.
func Start(t testing.TB, bin, dataDir string, env ...string) *Proc {
	t.Helper()
	return StartWith(t, bin, dataDir, Options{Env: env})
}

// StartWith is Start with options.
func StartWith(t testing.TB, bin, dataDir string, o Options) *Proc {
	t.Helper()
	if o.Listen == "" {
		o.Listen = "/ip4/127.0.0.1/tcp/0"
	}
	_ = os.Remove(filepath.Join(dataDir, "rpc.url")) // a killed node leaves it behind
	args := append([]string{"run-node", "--dev", "--data-dir", dataDir,
		"--rpc", "127.0.0.1:0", "--listen", o.Listen}, o.Args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), o.Env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Proc{Cmd: cmd, Out: &out, Done: make(chan error, 1), exited: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		p.waitErr = err
		close(p.exited)
		p.Done <- err
	}()
	// Only the goroutine above touches cmd.ProcessState: the cleanup learns
	// of the exit from the exited channel, which a test receiving from
	// Done does not consume.
	t.Cleanup(func() {
		if p.kill() {
			t.Logf("node stopped at cleanup: %v", p.waitErr) // "signal: killed" is expected
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
		case <-p.exited:
			t.Fatalf("node exited: %v\n%s", p.waitErr, out.String())
		default:
		}
		if time.Now().After(deadline) {
			p.kill() // Out may be read once the process has exited
			t.Fatalf("node not ready after 60s\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond) // polling for readiness
	}
}

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// kill kills the process if it still runs and waits for it to exit. It
// reports whether it had to kill it.
func (p *Proc) kill() bool {
	if p.Exited() {
		return false
	}
	_ = p.Cmd.Process.Kill()
	<-p.exited
	return true
}
