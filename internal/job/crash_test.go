package job

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/nodeproc"
	"github.com/onvm-network/onvm/internal/state"
)

// TestKillDuringJobs kill -9s a node while jobs run and others are
// queued, restarts it, and checks that every accepted job reaches a
// terminal state (completed: each puts its own kvstore key) and that each
// request was applied exactly once: one receipt per request id, one key
// per job, nothing else.
func TestKillDuringJobs(t *testing.T) {
	bin := nodeproc.Build(t)
	dir := t.TempDir()
	if out, err := exec.Command(bin, "init", "--data-dir", dir, "--allow-plaintext-identity").CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	n := nodeproc.Start(t, bin, dir, "ONVM_JOBS_MAX_CONCURRENT=2")
	code := wasmFile(t, "kvstore")
	prog, err := n.Client.Deploy(t.Context(), client.DeployRequest{Wasm: code, Entrypoint: "onvm_main", Salt: []byte("kill")})
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
				res, err := n.Client.SubmitJob(context.Background(), client.SubmitJobRequest{RequestID: rid, ProgramID: p, Input: []byte(in)})
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
		r, err := n.Client.Readiness(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		// A page of 20 says whether 20 completed; a larger one only slows
		// the polling down on a busy machine, which can miss the window.
		page, err := n.Client.Jobs(t.Context(), client.JobQuery{Status: "completed", Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total >= 20 && r.Capacity.CurrentJobs > 0 && r.Capacity.QueueDepth >= 5 {
			t.Logf("killing with %d completed, %d running, %d queued", page.Total, r.Capacity.CurrentJobs, r.Capacity.QueueDepth)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never reached a mix of completed, running and queued jobs (%d completed, %+v)", page.Total, r.Capacity)
		}
		time.Sleep(5 * time.Millisecond) // polling the node's progress
	}
	if err := n.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-n.Done
	wg.Wait()

	// Restart: every accepted job finishes.
	n = nodeproc.Start(t, bin, dir, "ONVM_JOBS_MAX_CONCURRENT=2")
	mu.Lock()
	t.Logf("%d of %d submissions were acknowledged before the kill", len(acked), total)
	mu.Unlock()
	completed := map[string]string{} // job id → receipt id
	for i := range total {
		rid := fmt.Sprintf("job-%04d", i)
		jid := id.JobOf(mustProgram(t, p), rid).String()
		j, err := n.Client.Job(t.Context(), jid)
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
			if j, err = n.Client.WaitJob(t.Context(), jid, j.Status, 30*time.Second); err != nil {
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
		page, err := n.Client.Receipts(t.Context(), p, cursor, 1000)
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
	if err := n.Cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := <-n.Done; err != nil {
		t.Fatalf("node exit: %v\n%s", err, n.Out.String())
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
