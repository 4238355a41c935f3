package node_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/internal/nodeproc"
)

// startB builds the binary, reads kvstore and starts node B, returning
// B's first P2P address for others to use as their bootnode.
func startB(t *testing.T) (bin string, code []byte, b *nodeproc.Proc, boot string) {
	t.Helper()
	bin = nodeproc.Build(t)
	code, err := os.ReadFile(filepath.Join("..", "..", "examples", "kvstore", "kvstore.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	b = nodeproc.Start(t, bin, t.TempDir())
	peers, err := b.Client.Peers(t.Context())
	if err != nil || len(peers.Self.Addrs) == 0 {
		t.Fatalf("peers of B: %+v %v", peers, err)
	}
	return bin, code, b, peers.Self.Addrs[0]
}

// TestAcknowledgedSurvivesKill: whatever a node acknowledged — a deploy,
// an execution, a blob upload, a job submission — reaches its peers even
// when the node is killed with SIGKILL the moment it answered, and
// restarted. Node A is killed after each round; node B, its peer, must end
// up knowing every program, receipt, blob and job A acknowledged.
func TestAcknowledgedSurvivesKill(t *testing.T) {
	bin, code, b, bootB := startB(t)
	dirA := t.TempDir()
	startA := func() *nodeproc.Proc {
		return nodeproc.StartWith(t, bin, dirA, nodeproc.Options{Args: []string{"--bootnode", bootB}})
	}
	kill := func(p *nodeproc.Proc) {
		t.Helper()
		if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.Done
	}

	var programs, receipts, blobs, jobs []string
	a := startA()
	const rounds = 3
	for i := range rounds {
		// A deploy, killed at once.
		prog, err := a.Client.Deploy(t.Context(), client.DeployRequest{Wasm: code, Entrypoint: "onvm_main", Salt: fmt.Appendf(nil, "round %d", i)})
		if err != nil {
			t.Fatalf("round %d: deploy: %v", i, err)
		}
		programs = append(programs, prog.ID)
		kill(a)
		a = startA()

		// An execution of the program, killed at once.
		in := fmt.Sprintf(`{"op":"put","key":"k%d","data_base64":"dmFsdWU="}`, i)
		res, err := a.Client.Execute(t.Context(), client.ExecuteRequest{ProgramID: prog.ID, Input: []byte(in)})
		if err != nil {
			t.Fatalf("round %d: execute: %v", i, err)
		}
		receipts = append(receipts, res.ReceiptID)
		kill(a)
		a = startA()

		// A blob upload and a job submission, killed at once.
		data := fmt.Appendf(nil, "blob of round %d", i)
		ref, err := a.Client.UploadBlob(t.Context(), bytes.NewReader(data), int64(len(data)), "text/plain")
		if err != nil {
			t.Fatalf("round %d: upload: %v", i, err)
		}
		blobs = append(blobs, ref.ID)
		job, err := a.Client.SubmitJob(t.Context(), client.SubmitJobRequest{
			RequestID: fmt.Sprintf("job-%d", i), ProgramID: prog.ID, Input: []byte(`{"op":"stats"}`)})
		if err != nil {
			t.Fatalf("round %d: submit job: %v", i, err)
		}
		jobs = append(jobs, job.JobID)
		kill(a)
		a = startA()
	}

	// B hears of everything A acknowledged.
	deadline := time.Now().Add(90 * time.Second)
	for {
		var missing []string
		for _, p := range programs {
			if _, err := b.Client.Program(t.Context(), p); err != nil {
				missing = append(missing, "program "+p+": "+err.Error())
			}
		}
		for _, r := range receipts {
			if _, err := b.Client.Receipt(t.Context(), r); err != nil {
				missing = append(missing, "receipt "+r+": "+err.Error())
			}
		}
		for _, x := range blobs {
			if _, err := b.Client.BlobInfo(t.Context(), x); err != nil {
				missing = append(missing, "blob "+x+": "+err.Error())
			}
		}
		for _, j := range jobs {
			if got, err := b.Client.Job(t.Context(), j); err != nil || got.Status != "completed" {
				missing = append(missing, fmt.Sprintf("job %s: %+v %v", j, got, err))
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after kill -9 following each acknowledgement, B is missing %d of %d:\n%q",
				len(missing), len(programs)+len(receipts)+len(blobs)+len(jobs), missing)
		}
		time.Sleep(200 * time.Millisecond) // polling with a deadline, not synchronising
	}
}

// TestFrozenCommitteeFailsFast: an execution whose program's committee is
// frozen (SIGSTOP: its connections look open, nothing answers) fails with
// 503 leader_unavailable in seconds, instead of hanging until the
// client's deadline.
func TestFrozenCommitteeFailsFast(t *testing.T) {
	bin, code, b, bootB := startB(t)
	a := nodeproc.StartWith(t, bin, t.TempDir(), nodeproc.Options{Args: []string{"--bootnode", bootB}})
	bNode, err := b.Client.Liveness(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// Both validators registered on A, then a program whose committee is B.
	deadline := time.Now().Add(30 * time.Second)
	for {
		authors, err := a.Client.DAGAuthors(t.Context())
		if err == nil && len(authors) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("A knows %d authors", len(authors))
		}
		time.Sleep(50 * time.Millisecond) // polling with a deadline, not synchronising
	}
	var prog string
	for i := 0; prog == ""; i++ {
		p, err := a.Client.Deploy(t.Context(), client.DeployRequest{Wasm: code, Entrypoint: "onvm_main", Salt: fmt.Appendf(nil, "frozen %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		c, err := a.Client.Committee(t.Context(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Members[0].Node == bNode.NodeID {
			prog = p.ID
		}
		if i == 40 {
			t.Fatal("no program of forty got B as its committee")
		}
	}
	in := []byte(`{"op":"put","key":"k","data_base64":"dmFsdWU="}`)
	if _, err := a.Client.Execute(t.Context(), client.ExecuteRequest{ProgramID: prog, Input: in, RequestID: "before"}); err != nil {
		t.Fatalf("execute while B runs: %v", err)
	}

	if err := b.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = b.Cmd.Process.Signal(syscall.SIGCONT) }()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_, err = a.Client.Execute(ctx, client.ExecuteRequest{ProgramID: prog, Input: in, RequestID: "frozen"})
	var e *client.Error
	if !errors.As(err, &e) || e.Status != http.StatusServiceUnavailable || e.Code != "leader_unavailable" {
		t.Fatalf("execute with the committee frozen: %v, want 503 leader_unavailable before the client's deadline", err)
	}
}

// TestFrozenBlobProviderFailsFast: a blob whose only provider is frozen
// (SIGSTOP) is answered 503 providers_unreachable within 2 s by a node
// that knows it by its metadata, instead of waiting for the fetch.
func TestFrozenBlobProviderFailsFast(t *testing.T) {
	bin, _, b, bootB := startB(t)
	a := nodeproc.StartWith(t, bin, t.TempDir(), nodeproc.Options{Args: []string{"--bootnode", bootB},
		Env: []string{"ONVM_BLOB_SYNC_MODE=metadata"}})
	data := bytes.Repeat([]byte("frozen provider "), 8<<10)
	ref, err := b.Client.UploadBlob(t.Context(), bytes.NewReader(data), int64(len(data)), "application/octet-stream")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := a.Client.BlobInfo(t.Context(), ref.ID)
		if err == nil && info.Size == int64(len(data)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("A has no metadata of the blob: %+v %v", info, err)
		}
		time.Sleep(50 * time.Millisecond) // polling with a deadline, not synchronising
	}

	if err := b.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = b.Cmd.Process.Signal(syscall.SIGCONT) }()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err = a.Client.GetBlob(ctx, ref.ID, new(bytes.Buffer))
	took := time.Since(start)
	var e *client.Error
	if !errors.As(err, &e) || e.Status != http.StatusServiceUnavailable || e.Code != "providers_unreachable" {
		t.Fatalf("GET with the only provider frozen: %v after %v, want 503 providers_unreachable", err, took)
	}
	if took > 2*time.Second {
		t.Fatalf("answered after %v, want within 2 s", took)
	}
	t.Logf("503 after %v", took.Round(time.Millisecond))
}
