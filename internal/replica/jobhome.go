package replica

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/job"
	"github.com/onvm-network/onvm/internal/program"
)

// A job is one fact network-wide: it lives on its home, the node that
// finalizes its program's transitions (the program's committee), and only
// there is it created, run, cancelled and decided. Any other node routes a
// submission, a status read, a wait, a cancel, the logs and the output to
// the home over the exec protocol and answers its client with the home's
// answer; once the job is terminal its signed record replicates to every
// node (job_record), which then answers from its own copy. So the same
// request id names one job everywhere, a conflicting payload is 409 on
// every node, and a cancel acknowledged anywhere is the home's cancel —
// which the job's transition cannot commit after (job.Service.Cancel).
// See "Why does a job live on its program's committee?" in
// docs/rationale/jobs.md.

// JobService is the job service as the replica uses it (*job.Service):
// the job_record handler imports peers' terminal records, and the job
// routes serve the jobs whose home is this node.
type JobService interface {
	Import(ctx context.Context, rec *op.JobRecord) (created bool, err error)
	Submit(ctx context.Context, req job.SubmitRequest) (*job.Job, bool, error)
	Get(j id.Job) (*job.Job, error)
	Wait(ctx context.Context, j id.Job, until func(*job.Job) bool) (*job.Job, error)
	Cancel(ctx context.Context, j id.Job) (*job.Job, error)
	List(q job.ListQuery) (*job.Page, error)
	Logs(j id.Job) ([]job.LogEntry, error)
	Output(ctx context.Context, j id.Job) ([]byte, *job.Job, error)
	Stats() job.Stats
}

// Job call operations.
const (
	jobSubmit = "submit"
	jobGet    = "get"
	jobWait   = "wait"
	jobCancel = "cancel"
	jobLogs   = "logs"
	jobOutput = "output"
)

// jobFindWait bounds asking the validators which of them is the home of a
// job this node has never heard of.
const jobFindWait = 2 * time.Second

// jobCall is a job operation sent to the job's home (fwdReq.Job).
type jobCall struct {
	Op     string            `cbor:"1,keyasint"`
	Job    id.Job            `cbor:"2,keyasint"`
	Submit *jobSubmitRequest `cbor:"3,keyasint,omitempty"`
	WaitMS int64             `cbor:"4,keyasint,omitempty"`
	Seen   job.Status        `cbor:"5,keyasint,omitempty"` // wait: the status the caller has
}

// jobSubmitRequest is job.SubmitRequest on the wire.
type jobSubmitRequest struct {
	RequestID  string            `cbor:"1,keyasint"`
	Program    id.Program        `cbor:"2,keyasint"`
	Input      []byte            `cbor:"3,keyasint,omitempty"`
	InputBlob  *id.Blob          `cbor:"4,keyasint,omitempty"`
	MaxRetries *uint32           `cbor:"5,keyasint,omitempty"`
	TimeoutMS  int64             `cbor:"6,keyasint,omitempty"`
	FuelLimit  uint64            `cbor:"7,keyasint,omitempty"`
	TTLMS      int64             `cbor:"8,keyasint,omitempty"`
	Metadata   map[string]string `cbor:"9,keyasint,omitempty"`
}

// jobAnswer is the home's answer (fwdResp.Job).
type jobAnswer struct {
	Job     *job.Job       `cbor:"1,keyasint,omitempty"`
	Created bool           `cbor:"2,keyasint,omitempty"`
	Logs    []job.LogEntry `cbor:"3,keyasint,omitempty"`
	Output  []byte         `cbor:"4,keyasint,omitempty"`
}

// Jobs is the job service as the API sees it: local for the jobs whose
// home is this node and for terminal records replicated here, routed to
// the home for the others. List and Stats are this node's own.
type Jobs struct {
	JobService
	r *Replica
}

// Jobs returns the routing view of the job service given to SetJobs.
func (r *Replica) Jobs() *Jobs {
	r.jobsMu.RLock()
	defer r.jobsMu.RUnlock()
	return &Jobs{JobService: r.jobs, r: r}
}

// home returns the node that is the home of p's jobs: this node when it
// finalizes p's transitions, else the committee's first member.
func (r *Replica) home(ctx context.Context, p id.Program) (id.Node, error) {
	m, err := r.awaitProgram(ctx, p, DefaultMissWait)
	if err != nil {
		return id.Node{}, err
	}
	return jobHome(m, r.self), nil
}

func jobHome(m *program.Manifest, self id.Node) id.Node {
	c := &m.Body.Committee
	if i := c.Index(self); i >= 0 && c.Members[i].Weight >= c.Threshold {
		return self
	}
	return c.Members[0].Node
}

// Submit creates the job on its home: here, or on the home, which then
// holds it (and this node remembers where it is).
func (x *Jobs) Submit(ctx context.Context, req job.SubmitRequest) (*job.Job, bool, error) {
	r := x.r
	home, err := r.home(ctx, req.Program)
	if err != nil {
		return nil, false, err
	}
	if home == r.self {
		return x.JobService.Submit(ctx, req)
	}
	call := &jobCall{Op: jobSubmit, Job: id.JobOf(req.Program, req.RequestID), Submit: &jobSubmitRequest{
		RequestID: req.RequestID, Program: req.Program, Input: req.Input, InputBlob: req.InputBlob,
		MaxRetries: req.MaxRetries, TimeoutMS: req.TimeoutMS, FuelLimit: req.FuelLimit, TTLMS: req.TTLMS, Metadata: req.Metadata,
	}}
	ans, err := r.callJob(ctx, home, call)
	if err != nil {
		return nil, false, err
	}
	if err := r.db.Set(key(pfxJobHome, call.Job[:]), home[:], pebble.NoSync); err != nil {
		r.log.Warn("remember a job's home", "job", call.Job.String(), "err", err)
	}
	return ans.Job, ans.Created, nil
}

// Get returns job j from this node if it knows it, else from its home.
func (x *Jobs) Get(j id.Job) (*job.Job, error) {
	cur, err := x.JobService.Get(j)
	if !errors.Is(err, job.ErrNotFound) {
		return cur, err
	}
	ans, err := x.r.routeJob(context.Background(), &jobCall{Op: jobGet, Job: j})
	if err != nil {
		return nil, err
	}
	return ans.Job, nil
}

// Wait waits for until on this node if it knows j, else on j's home: the
// home answers at each change of status, and the wait goes on from there
// until until holds or ctx ends.
func (x *Jobs) Wait(ctx context.Context, j id.Job, until func(*job.Job) bool) (*job.Job, error) {
	if _, err := x.JobService.Get(j); !errors.Is(err, job.ErrNotFound) {
		return x.JobService.Wait(ctx, j, until)
	}
	var cur *job.Job
	for {
		call := &jobCall{Op: jobWait, Job: j}
		if cur != nil {
			call.Seen = cur.Status
		}
		if dl, ok := ctx.Deadline(); ok {
			call.WaitMS = max(time.Until(dl).Milliseconds(), 0)
		}
		ans, err := x.r.routeJob(ctx, call)
		switch {
		case err != nil && cur != nil && ctx.Err() != nil:
			return cur, nil // the wait is over: the job as it last was
		case err != nil:
			return nil, err
		}
		cur = ans.Job
		if until(cur) || cur.Status.Terminal() || ctx.Err() != nil || call.WaitMS == 0 {
			return cur, nil
		}
	}
}

// Cancel cancels j on its home. A job known here only as a replicated
// terminal record is already decided: ErrTerminal, as on the home.
func (x *Jobs) Cancel(ctx context.Context, j id.Job) (*job.Job, error) {
	if _, err := x.JobService.Get(j); !errors.Is(err, job.ErrNotFound) {
		return x.JobService.Cancel(ctx, j)
	}
	ans, err := x.r.routeJob(ctx, &jobCall{Op: jobCancel, Job: j})
	if err != nil {
		return nil, err
	}
	return ans.Job, nil
}

// Logs returns j's log from this node if it knows j, else from its home.
func (x *Jobs) Logs(j id.Job) ([]job.LogEntry, error) {
	if _, err := x.JobService.Get(j); !errors.Is(err, job.ErrNotFound) {
		return x.JobService.Logs(j)
	}
	ans, err := x.r.routeJob(context.Background(), &jobCall{Op: jobLogs, Job: j})
	if err != nil {
		return nil, err
	}
	return ans.Logs, nil
}

// Output returns j's output from this node if it knows j, else from its
// home.
func (x *Jobs) Output(ctx context.Context, j id.Job) ([]byte, *job.Job, error) {
	if _, err := x.JobService.Get(j); !errors.Is(err, job.ErrNotFound) {
		return x.JobService.Output(ctx, j)
	}
	ans, err := x.r.routeJob(ctx, &jobCall{Op: jobOutput, Job: j})
	if err != nil {
		return nil, nil, err
	}
	return ans.Output, ans.Job, nil
}

// routeJob sends call to the home of its job: the one this node
// remembers from forwarding its submission, else whichever validator
// knows the job (asked at once, bounded by jobFindWait). No validator
// knowing it is job.ErrNotFound.
func (r *Replica) routeJob(ctx context.Context, call *jobCall) (*jobAnswer, error) {
	if v, ok, err := get(r.db, key(pfxJobHome, call.Job[:])); err == nil && ok && len(v) == id.Size {
		return r.callJob(ctx, id.Node(v), call)
	}
	var peers []id.Node
	for _, v := range r.vals.List() {
		if v.Node != r.self {
			peers = append(peers, v.Node)
		}
	}
	if len(peers) == 0 || r.net == nil {
		return nil, fmt.Errorf("job %s: %w", call.Job, job.ErrNotFound)
	}
	type found struct {
		home id.Node
		ans  *jobAnswer
		err  error
	}
	fctx, cancel := context.WithTimeout(ctx, jobFindWait)
	defer cancel()
	res := make(chan found, len(peers))
	for _, p := range peers {
		go func() {
			ans, err := r.callJob(fctx, p, &jobCall{Op: jobGet, Job: call.Job})
			res <- found{p, ans, err}
		}()
	}
	for range peers {
		f := <-res
		if f.err == nil {
			if err := r.db.Set(key(pfxJobHome, call.Job[:]), f.home[:], pebble.NoSync); err != nil {
				r.log.Warn("remember a job's home", "job", call.Job.String(), "err", err)
			}
			if call.Op == jobGet {
				return f.ans, nil // the lookup was the call
			}
			return r.callJob(ctx, f.home, call)
		}
	}
	return nil, fmt.Errorf("job %s: %w", call.Job, job.ErrNotFound)
}

// callJob sends call to node home and decodes the answer.
func (r *Replica) callJob(ctx context.Context, home id.Node, call *jobCall) (*jobAnswer, error) {
	if r.net == nil {
		return nil, fmt.Errorf("job %s: %w", call.Job, ErrLeaderUnavailable)
	}
	payload, err := codec.Marshal(&fwdReq{Job: call})
	if err != nil {
		return nil, err
	}
	if err := r.net.Reach(ctx, home, 0); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("job %s on %s: %w: %w", call.Job, home, ErrLeaderUnavailable, err)
	}
	timeout := DefaultForwardWait + time.Duration(call.WaitMS)*time.Millisecond
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	raw, err := r.net.Exec().Call(cctx, home, payload)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("job %s on %s: %w: %w", call.Job, home, ErrLeaderUnavailable, err)
	}
	var resp fwdResp
	if err := codec.Unmarshal(raw, &resp); err != nil {
		return nil, fmt.Errorf("job %s on %s: %w: %v", call.Job, home, ErrBadForward, err)
	}
	if resp.Err != nil {
		return nil, resp.Err.decode(home)
	}
	a := resp.Job
	switch {
	case a == nil:
		return nil, fmt.Errorf("job %s on %s: %w: no answer", call.Job, home, ErrBadForward)
	case call.Op != jobLogs && (a.Job == nil || a.Job.ID != call.Job):
		return nil, fmt.Errorf("job %s on %s: %w: answer about another job", call.Job, home, ErrBadForward)
	}
	return a, nil
}

// serveJob serves a job call from a validator: only for the jobs whose
// home is this node, so a call never travels more than one hop.
func (r *Replica) serveJob(ctx context.Context, call *jobCall) (*jobAnswer, error) {
	r.jobsMu.RLock()
	svc := r.jobs
	r.jobsMu.RUnlock()
	if svc == nil {
		return nil, job.ErrClosed
	}
	switch call.Op {
	case jobSubmit:
		s := call.Submit
		if s == nil || id.JobOf(s.Program, s.RequestID) != call.Job {
			return nil, fmt.Errorf("%w: submission does not name its job", job.ErrInvalid)
		}
		if _, err := r.awaitProgram(ctx, s.Program, DefaultUnseenWait); err != nil {
			return nil, err
		}
		if home, err := r.home(ctx, s.Program); err != nil || home != r.self {
			return nil, fmt.Errorf("job %s: %w", call.Job, chain.ErrNotInCommittee)
		}
		j, created, err := svc.Submit(ctx, job.SubmitRequest{
			RequestID: s.RequestID, Program: s.Program, Input: s.Input, InputBlob: s.InputBlob,
			MaxRetries: s.MaxRetries, TimeoutMS: s.TimeoutMS, FuelLimit: s.FuelLimit, TTLMS: s.TTLMS, Metadata: s.Metadata,
		})
		if err != nil {
			return nil, err
		}
		return &jobAnswer{Job: j, Created: created}, nil
	case jobGet:
		j, err := svc.Get(call.Job)
		if err != nil {
			return nil, err
		}
		return &jobAnswer{Job: j}, nil
	case jobWait:
		wctx, cancel := context.WithTimeout(ctx, min(time.Duration(max(call.WaitMS, 0))*time.Millisecond, DefaultForwardWait))
		defer cancel()
		j, err := svc.Wait(wctx, call.Job, func(j *job.Job) bool {
			return j.Status.Terminal() || (call.Seen != 0 && j.Status != call.Seen)
		})
		if err != nil {
			return nil, err
		}
		return &jobAnswer{Job: j}, nil
	case jobCancel:
		j, err := svc.Cancel(ctx, call.Job)
		if err != nil {
			return nil, err
		}
		return &jobAnswer{Job: j}, nil
	case jobLogs:
		j, err := svc.Get(call.Job)
		if err != nil {
			return nil, err
		}
		logs, err := svc.Logs(call.Job)
		if err != nil {
			return nil, err
		}
		return &jobAnswer{Job: j, Logs: logs}, nil
	case jobOutput:
		out, j, err := svc.Output(ctx, call.Job)
		if err != nil {
			return nil, err
		}
		return &jobAnswer{Job: j, Output: out}, nil
	}
	return nil, fmt.Errorf("%w: job operation %q", job.ErrInvalid, call.Op)
}

// jobErrs are the job service's errors that cross the network.
var jobErrs = []struct {
	code string
	err  error
}{
	{"job_not_found", job.ErrNotFound},
	{"job_invalid", job.ErrInvalid},
	{"job_terminal", job.ErrTerminal},
	{"job_not_completed", job.ErrNotCompleted},
	{"job_queue_full", job.ErrQueueFull},
	{"job_input_too_large", job.ErrInputTooLarge},
	{"job_closed", job.ErrClosed},
}
