package node

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/job"
)

// homeAndOther deploys kvstore on nodes[0] and returns the index of the
// program's committee (its jobs' home) and of the other node, once both
// list the program.
func homeAndOther(t testing.TB, nodes []clusterNode, salt string) (prog string, home, other int) {
	t.Helper()
	ctx := t.Context()
	p, err := nodes[0].c.Deploy(ctx, client.DeployRequest{Wasm: kvstoreWasm(t), Entrypoint: "onvm_main", Salt: []byte(salt)})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the program on both nodes", func() bool {
		for _, x := range nodes {
			if _, err := x.c.Program(ctx, p.ID); err != nil {
				return false
			}
		}
		return true
	})
	c, err := nodes[0].c.Committee(ctx, p.ID)
	if err != nil || len(c.Members) != 1 {
		t.Fatalf("committee %+v %v", c, err)
	}
	home = -1
	for i, x := range nodes {
		if x.n.ID().String() == c.Members[0].Node {
			home = i
		}
	}
	if home < 0 {
		t.Fatalf("committee member %s is none of the nodes", c.Members[0].Node)
	}
	return p.ID, home, 1 - home
}

// TestOneJobPerRequestID: a request id names one job on every node. A
// submission to a node that is not the program's committee creates the
// job on the committee (its home) and nowhere else; the same submission to
// the home is that job (created false); a conflicting payload is 409 on
// both nodes; status reads agree.
func TestOneJobPerRequestID(t *testing.T) {
	nodes := startCluster(t, 2)
	ctx := t.Context()
	prog, home, other := homeAndOther(t, nodes, "one job")
	submit := func(i int, input string) (*client.SubmitJobResult, error) {
		return nodes[i].c.SubmitJob(ctx, client.SubmitJobRequest{RequestID: "same", ProgramID: prog, Input: []byte(input)})
	}
	put := `{"op":"put","key":"k","data_base64":"dmFsdWU="}`
	first, err := submit(other, put)
	if err != nil || !first.Created {
		t.Fatalf("first submission on the other node: %+v %v", first, err)
	}
	again, err := submit(home, put)
	if err != nil || again.Created || again.JobID != first.JobID {
		t.Fatalf("the same submission on the home: %+v %v (first %s) — a second job", again, err, first.JobID)
	}
	for _, i := range []int{other, home} {
		_, err := submit(i, `{"op":"stats"}`)
		var e *client.Error
		if !errors.As(err, &e) || e.Status != http.StatusConflict {
			t.Fatalf("conflicting payload on node %d: %v, want 409", i, err)
		}
	}
	jid, err := id.ParseJob(first.JobID)
	if err != nil {
		t.Fatal(err)
	}
	// The job lives on its home only; the other node answers from it.
	if j, err := nodes[other].n.Jobs().Get(jid); !errors.Is(err, job.ErrNotFound) && (err != nil || !j.Imported) {
		t.Fatalf("the other node holds a job of its own: %+v %v", j, err)
	}
	waitFor(t, 60*time.Second, "the job completed, as seen from both nodes", func() bool {
		for _, x := range nodes {
			j, err := x.c.Job(ctx, first.JobID)
			if err != nil || j.Status != "completed" {
				return false
			}
		}
		return true
	})
	page, err := nodes[home].c.Receipts(ctx, prog, "", 100)
	if err != nil || len(page.Receipts) != 1 {
		t.Fatalf("receipts on the home: %d %v, want 1 (one job, one transition)", len(page.Receipts), err)
	}
}

// TestCancelOnAnotherNode: a cancel acknowledged by a node that is not
// the job's home either prevents the job's commit or answers that the job
// already finished; a job reported cancelled never committed a
// transition.
func TestCancelOnAnotherNode(t *testing.T) {
	nodes := startCluster(t, 2)
	ctx := t.Context()
	prog, home, other := homeAndOther(t, nodes, "cancel")
	const jobs = 8
	var ids []string
	for i := range jobs {
		in := fmt.Sprintf(`{"op":"put","key":"k%d","data_base64":"dmFsdWU="}`, i)
		res, err := nodes[other].c.SubmitJob(ctx, client.SubmitJobRequest{RequestID: fmt.Sprintf("c%d", i), ProgramID: prog, Input: []byte(in)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.JobID)
		if _, err := nodes[other].c.CancelJob(ctx, res.JobID); err != nil {
			var e *client.Error
			if !errors.As(err, &e) || e.Status != http.StatusConflict {
				t.Fatalf("cancel of job %d: %v", i, err)
			}
		}
	}
	completed := 0
	for _, j := range ids {
		var st [2]string
		waitFor(t, 60*time.Second, "job "+j+" terminal on both nodes, alike", func() bool {
			for k, x := range nodes {
				got, err := x.c.Job(ctx, j)
				if err != nil {
					return false
				}
				st[k] = string(got.Status)
			}
			return st[0] == st[1] && (st[0] == "completed" || st[0] == "cancelled")
		})
		if st[0] == "completed" {
			completed++
		}
	}
	page, err := nodes[home].c.Receipts(ctx, prog, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Receipts) != completed {
		t.Fatalf("%d transitions committed for %d completed jobs: a cancelled job committed", len(page.Receipts), completed)
	}
}

// TestJobFoundFromAnyNode: a job submitted on node A is known on a node C
// that never routed it — no record of the job, nor of its home — because
// C asks every validator which of them holds it (bounded by 2 s). Both
// a status read and a cancel find it. The jobs wait for an input blob
// that does not exist, so they stay unfinished and no replicated record
// answers for the lookup.
func TestJobFoundFromAnyNode(t *testing.T) {
	nodes := startCluster(t, 3)
	ctx := t.Context()
	prog, home, _ := homeAndOther(t, nodes, "found anywhere")
	var others []int
	for i := range nodes {
		if i != home {
			others = append(others, i)
		}
	}
	a, c := nodes[others[0]], nodes[others[1]]
	var missing id.Blob
	rand.Read(missing[:])
	retries := uint32(job.MaxRetriesLimit)
	submit := func(rid string) id.Job {
		t.Helper()
		res, err := a.c.SubmitJob(ctx, client.SubmitJobRequest{RequestID: rid, ProgramID: prog, InputBlobID: missing.String(), MaxRetries: &retries})
		if err != nil || !res.Created {
			t.Fatalf("submit %s on A: %+v %v", rid, res, err)
		}
		jid, err := id.ParseJob(res.JobID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.n.Jobs().Get(jid); !errors.Is(err, job.ErrNotFound) {
			t.Fatalf("C holds job %s itself: %v", jid, err)
		}
		return jid
	}

	read := submit("read")
	start := time.Now()
	got, err := c.c.Job(ctx, read.String())
	if err != nil || got.JobID != read.String() || got.Status == "completed" || got.Status == "failed" {
		t.Fatalf("job %s read on C: %+v %v, want the unfinished job of its home", read, got, err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("lookup took %v; the validators are asked for at most 2 s", took)
	}

	cancel := submit("cancel")
	if got, err := c.c.CancelJob(ctx, cancel.String()); err != nil || got.Status != "cancelled" {
		t.Fatalf("cancel of job %s on C: %+v %v", cancel, got, err)
	}
	if got, err := nodes[home].c.Job(ctx, cancel.String()); err != nil || got.Status != "cancelled" {
		t.Fatalf("job %s on its home after C's cancel: %+v %v", cancel, got, err)
	}
}
