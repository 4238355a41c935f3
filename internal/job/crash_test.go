package job

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/state"
)

// onvmBinary builds cmd/onvm for the test.
func onvmBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := filepath.Join(t.TempDir(), "onvm")
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binary with")
	}
	out, err := exec.Command(gobin, "build", "-o", bin, "github.com/onvm-network/onvm/cmd/onvm").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type nodeProc struct {
	cmd  *exec.Cmd
	out  *bytes.Buffer
	c    *client.Client
	done chan error
}

// startNode runs `onvm run-node` on dir with two job workers.
func startNode(t *testing.T, bin, dir string) *nodeProc {
	t.Helper()
	_ = os.Remove(filepath.Join(dir, "rpc.url")) // a killed node leaves it behind
	cmd := exec.Command(bin, "run-node", "--dev", "--data-dir", dir, "--rpc", "127.0.0.1:0", "--listen", "/ip4/127.0.0.1/tcp/0")
	cmd.Env = append(os.Environ(), "ONVM_JOBS_MAX_CONCURRENT=2")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &nodeProc{cmd: cmd, out: &out, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "rpc.url")); err == nil {
			c, err := client.New(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Readiness(t.Context()); err == nil {
				p.c = c
				return p
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("node exited: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("node not ready\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond) // polling for readiness
	}
}

// TestKillDuringJobs kill -9s a node while jobs run and others are
// queued, restarts it, and checks that every accepted job reaches a
// terminal state (completed: each puts its own kvstore key) and that each
// request was applied exactly once: one receipt per request id, one key
// per job, nothing else.
func TestKillDuringJobs(t *testing.T) {
	bin := onvmBinary(t)
	dir := t.TempDir()
	if out, err := exec.Command(bin, "init", "--data-dir", dir, "--allow-plaintext-identity").CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	n := startNode(t, bin, dir)
	code := wasmFile(t, "kvstore")
	prog, err := n.c.Deploy(t.Context(), client.DeployRequest{Wasm: code, Entrypoint: "onvm_main", Salt: []byte("kill")})
	if err != nil {
		t.Fatal(err)
	}
	p := prog.ID

	const total = 300
	var (
		mu    sync.Mutex
		acked = map[string]string{} // request id → job id
		wg    sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < total; i += 4 {
				rid := fmt.Sprintf("job-%04d", i)
				in := fmt.Sprintf(`{"op":"put","key":%q,"data_base64":%q}`, rid, base64.StdEncoding.EncodeToString([]byte(rid)))
				res, err := n.c.SubmitJob(context.Background(), client.SubmitJobRequest{RequestID: rid, ProgramID: p, Input: []byte(in)})
				if err != nil {
					return // the node is gone
				}
				mu.Lock()
				acked[rid] = res.JobID
				mu.Unlock()
			}
		})
	}
	// Kill once jobs have completed, some run and more are queued.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		r, err := n.c.Readiness(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		page, err := n.c.Jobs(t.Context(), client.JobQuery{Status: "completed", Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total >= 20 && r.Capacity.CurrentJobs > 0 && r.Capacity.QueueDepth >= 20 {
			t.Logf("killing with %d completed, %d running, %d queued", page.Total, r.Capacity.CurrentJobs, r.Capacity.QueueDepth)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never reached a mix of completed, running and queued jobs (%d completed, %+v)", page.Total, r.Capacity)
		}
		time.Sleep(5 * time.Millisecond) // polling the node's progress
	}
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-n.done
	wg.Wait()

	// Restart: every accepted job finishes.
	n = startNode(t, bin, dir)
	mu.Lock()
	t.Logf("%d of %d submissions were acknowledged before the kill", len(acked), total)
	mu.Unlock()
	completed := map[string]string{} // job id → receipt id
	for i := range total {
		rid := fmt.Sprintf("job-%04d", i)
		jid := id.JobOf(mustProgram(t, p), rid).String()
		j, err := n.c.Job(t.Context(), jid)
		if client.IsNotFound(err) {
			if _, ok := acked[rid]; ok {
				t.Fatalf("acknowledged job %s lost", rid)
			}
			continue // submitted as the node died, never acknowledged
		}
		if err != nil {
			t.Fatal(err)
		}
		for !j.Terminal() {
			if j, err = n.c.WaitJob(t.Context(), jid, j.Status, 30*time.Second); err != nil {
				t.Fatal(err)
			}
		}
		if j.Status != "completed" || j.ReceiptID == nil {
			t.Fatalf("job %s ended %s: %v", rid, j.Status, j.ErrorMessage)
		}
		completed[jid] = *j.ReceiptID
	}

	// Exactly once: one receipt per job, under the job's request id.
	var receipts []client.ReceiptSummary
	for cursor := ""; ; {
		page, err := n.c.Receipts(t.Context(), p, cursor, 1000)
		if err != nil {
			t.Fatal(err)
		}
		receipts = append(receipts, page.Receipts...)
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	byRequest := map[string]string{}
	for _, r := range receipts {
		if prev, dup := byRequest[r.RequestID]; dup {
			t.Fatalf("request %s applied twice: receipts %s and %s", r.RequestID, prev, r.ReceiptID)
		}
		byRequest[r.RequestID] = r.ReceiptID
	}
	if len(receipts) != len(completed) {
		t.Fatalf("%d receipts for %d completed jobs", len(receipts), len(completed))
	}
	for jid, rc := range completed {
		if byRequest[jid] != rc {
			t.Fatalf("job %s: receipt %s, the chain has %q under its request id", jid, rc, byRequest[jid])
		}
	}
	if err := n.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := <-n.done; err != nil {
		t.Fatalf("node exit: %v\n%s", err, n.out.String())
	}
	// One kvstore key per completed job, nothing else under the prefix.
	db, err := pebble.Open(filepath.Join(dir, "db"), &pebble.Options{Logger: quiet{}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := state.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := st.List(mustProgram(t, p), []byte("job-"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != len(completed) {
		t.Fatalf("%d job keys in state for %d completed jobs", len(keys), len(completed))
	}
	t.Logf("%d jobs completed exactly once across the kill", len(completed))
}

func mustProgram(t *testing.T, s string) id.Program {
	t.Helper()
	p, err := id.ParseProgram(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
