package replica

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/job"
	"github.com/onvm-network/onvm/internal/p2p"
	"github.com/onvm-network/onvm/internal/program"
	"github.com/onvm-network/onvm/internal/wasm"
)

// Execute runs req here when this node sits on the program's committee
// (alone, or agreeing with the other members), and otherwise forwards it
// to a member — the leader for the next height first, failing over to the
// others — and returns its answer once the receipt verifies against the
// committee. Below network.min_peers it fails with
// p2p.ErrNotEnoughPeers. A forwarded request carries no PreCommit hook:
// the transition commits on the leader, and reaches this node through the
// DAG.
func (x *Programs) Execute(ctx context.Context, req chain.Request) (*chain.Outcome, error) {
	r := x.r
	if err := r.gate(); err != nil {
		return nil, fmt.Errorf("execute %s: %w", req.Program, err)
	}
	m, err := r.awaitProgram(ctx, req.Program, DefaultMissWait)
	if err != nil {
		return nil, err
	}
	c := &m.Body.Committee
	if c.Index(r.self) >= 0 {
		// A member finalizes alone (it holds the threshold) or with the
		// other members, through its committee's agreement.
		return x.Engine.Execute(ctx, req)
	}
	if len(req.Input) > x.Limits().MaxInput {
		return nil, fmt.Errorf("execute %s: %w: %d bytes (max %d)", req.Program, chain.ErrInputTooLarge, len(req.Input), x.Limits().MaxInput)
	}
	out, err := r.forward(ctx, m, req)
	if err == nil && req.RequestID != "" {
		// The transition reaches this node through the DAG without its
		// output (only its hash travels). Keep the output of an
		// idempotent request — every job's — as a local blob, so this node
		// (where the job's record says it ran) can answer job-output and
		// serve it to peers.
		if _, _, perr := r.blobs.Put(context.WithoutCancel(ctx), bytes.NewReader(out.Output), "application/octet-stream"); perr != nil {
			r.log.Warn("keep forwarded output", "program", req.Program.String(), "err", perr)
		}
	}
	return out, err
}

// fwdReq is the exec protocol payload of a forwarded execution.
type fwdReq struct {
	Program   id.Program `cbor:"1,keyasint"`
	Input     []byte     `cbor:"2,keyasint"`
	RequestID string     `cbor:"3,keyasint"`
	Fuel      uint64     `cbor:"4,keyasint"`
	TimeoutMS int64      `cbor:"5,keyasint"`
	Job       *jobCall   `cbor:"6,keyasint,omitempty"` // a job operation instead of an execution
}

// fwdResp is the answer: an outcome or an error.
type fwdResp struct {
	Output   []byte                      `cbor:"1,keyasint"`
	FuelUsed uint64                      `cbor:"2,keyasint"`
	Logs     []fwdLog                    `cbor:"3,keyasint"`
	Receipt  *consensus.CertifiedReceipt `cbor:"4,keyasint"`
	Replayed bool                        `cbor:"5,keyasint"`
	Err      *fwdErr                     `cbor:"6,keyasint"`
	Job      *jobAnswer                  `cbor:"7,keyasint,omitempty"`
}

type fwdLog struct {
	Source  string `cbor:"1,keyasint"`
	Level   uint8  `cbor:"2,keyasint"`
	Message string `cbor:"3,keyasint"`
}

// fwdErr carries an error class across the network, so that the
// forwarding node answers its client as the leader would have.
type fwdErr struct {
	Code     string   `cbor:"1,keyasint"`
	Message  string   `cbor:"2,keyasint"`
	Kind     uint8    `cbor:"3,keyasint"` // wasm.ErrorKind for code "wasm"
	FuelUsed uint64   `cbor:"4,keyasint"`
	Logs     []fwdLog `cbor:"5,keyasint"`
	Fields   []string `cbor:"6,keyasint,omitempty"` // code job_conflict: the fields that differ
}

// Error classes that cross the network, with the sentinel each maps to.
var fwdCodes = []struct {
	code string
	err  error
}{
	{"not_found", chain.ErrNotFound},
	{"invalid_request", chain.ErrInvalidRequest},
	{"input_too_large", chain.ErrInputTooLarge},
	{"request_conflict", chain.ErrRequestConflict},
	{"output_unavailable", chain.ErrOutputUnavailable},
	{"not_in_committee", chain.ErrNotInCommittee},
	{"env_mismatch", chain.ErrEnvMismatch},
	{"min_peers", p2p.ErrNotEnoughPeers},
	{"program_pending", ErrProgramPending},
	{"closed", chain.ErrClosed},
	{"not_decided", chain.ErrNotDecided},
	{"committee_busy", chain.ErrBusy},
}

// maxFwdMessage bounds an error message sent back.
const maxFwdMessage = 512

func encodeErr(err error) *fwdErr {
	var we *wasm.Error
	if errors.As(err, &we) {
		return &fwdErr{Code: "wasm", Message: truncate(we.Message), Kind: uint8(we.Kind), FuelUsed: we.FuelUsed, Logs: toFwdLogs(we.Logs)}
	}
	var ce *job.ConflictError
	if errors.As(err, &ce) {
		return &fwdErr{Code: "job_conflict", Message: truncate(err.Error()), Fields: ce.Fields}
	}
	for _, c := range fwdCodes {
		if errors.Is(err, c.err) {
			return &fwdErr{Code: c.code, Message: truncate(err.Error())}
		}
	}
	for _, c := range jobErrs {
		if errors.Is(err, c.err) {
			return &fwdErr{Code: c.code, Message: truncate(err.Error())}
		}
	}
	if errors.Is(err, program.ErrNotFound) {
		return &fwdErr{Code: "not_found", Message: truncate(err.Error())}
	}
	return &fwdErr{Code: "internal", Message: "execution failed on the leader"}
}

func (e *fwdErr) decode(leader id.Node) error {
	if e.Code == "wasm" {
		return &wasm.Error{Kind: wasm.ErrorKind(e.Kind), Message: e.Message, FuelUsed: e.FuelUsed, Logs: fromFwdLogs(e.Logs)}
	}
	if e.Code == "job_conflict" {
		return &job.ConflictError{Fields: e.Fields}
	}
	for _, c := range fwdCodes {
		if c.code == e.Code {
			return fmt.Errorf("leader %s: %w: %s", leader, c.err, e.Message)
		}
	}
	for _, c := range jobErrs {
		if c.code == e.Code {
			return fmt.Errorf("job home %s: %w", leader, c.err)
		}
	}
	return fmt.Errorf("leader %s: %w: %s", leader, p2p.ErrRemote, e.Message)
}

func truncate(s string) string {
	if len(s) > maxFwdMessage {
		return s[:maxFwdMessage]
	}
	return s
}

func toFwdLogs(ls []wasm.Log) []fwdLog {
	out := make([]fwdLog, len(ls))
	for i, l := range ls {
		out[i] = fwdLog{l.Source, uint8(l.Level), l.Message}
	}
	return out
}

func fromFwdLogs(ls []fwdLog) []wasm.Log {
	out := make([]wasm.Log, len(ls))
	for i, l := range ls {
		out[i] = wasm.Log{Source: l.Source, Level: wasm.LogLevel(l.Level), Message: l.Message}
	}
	return out
}

// forward sends req to the committee of m: the leader of the next height
// first, then the other members. Errors that say something about the
// request end the attempt; a member that cannot be reached or refuses
// passes it to the next.
func (r *Replica) forward(ctx context.Context, m *program.Manifest, req chain.Request) (*chain.Outcome, error) {
	if r.net == nil {
		return nil, fmt.Errorf("execute %s: %w", req.Program, ErrLeaderUnavailable)
	}
	c := &m.Body.Committee
	payload, err := codec.Marshal(&fwdReq{Program: req.Program, Input: req.Input, RequestID: req.RequestID, Fuel: req.Fuel, TimeoutMS: req.Timeout.Milliseconds()})
	if err != nil {
		return nil, err
	}
	next := uint64(1)
	if head, err := r.chain.Head(req.Program); err == nil {
		next = head.Height + 1
	}
	timeout := DefaultForwardWait
	if req.Timeout > 0 {
		timeout += req.Timeout
	}
	var errs []error
	for a := range len(c.Members) {
		leader := c.Leader(next, a)
		if leader == r.self {
			continue
		}
		// A member across a partition fails in about two seconds, not
		// after the whole forwarding deadline.
		if err := r.net.Reach(ctx, leader, 0); err != nil {
			errs = append(errs, err)
			continue
		}
		reach := func(cctx context.Context) error { return r.net.Reach(cctx, leader, 0) }
		out, err := r.callWithBackoff(ctx, timeout, func(cctx context.Context) (*chain.Outcome, error) {
			return watched(cctx, p2p.DefaultReachWait, reach, func(wctx context.Context) (*chain.Outcome, error) {
				return r.call(wctx, c, leader, payload, req)
			})
		})
		switch {
		case err == nil:
			r.m.forwarded.WithLabelValues("out", "ok").Inc()
			return out, nil
		case ctx.Err() != nil:
			return nil, fmt.Errorf("execute %s: %w", req.Program, ctx.Err())
		case errors.Is(err, chain.ErrNotInCommittee), errors.Is(err, p2p.ErrNotEnoughPeers),
			errors.Is(err, ErrProgramPending), errors.Is(err, ErrBadForward), errors.Is(err, p2p.ErrRemote),
			errors.Is(err, chain.ErrClosed), !isAnswer(err):
			errs = append(errs, err) // this member cannot serve it: try the next
			continue
		}
		r.m.forwarded.WithLabelValues("out", "error").Inc()
		return nil, err
	}
	r.m.forwarded.WithLabelValues("out", "unavailable").Inc()
	return nil, fmt.Errorf("execute %s: %w: %w", req.Program, ErrLeaderUnavailable, errors.Join(errs...))
}

// Backoff of a forwarded call the member refused for load (rate limit or
// busy): the sender waits and sends again, up to forwardBusyWait in all,
// instead of failing its client.
const (
	forwardBackoffFirst   = 5 * time.Millisecond
	forwardBackoffLongest = 250 * time.Millisecond
	forwardBusyWait       = 10 * time.Second
)

// callWithBackoff runs call under a timeout, again after a growing pause
// while the member answers that it is rate-limited or busy.
func (r *Replica) callWithBackoff(ctx context.Context, timeout time.Duration, call func(context.Context) (*chain.Outcome, error)) (*chain.Outcome, error) {
	pause, waited := forwardBackoffFirst, time.Duration(0)
	for {
		cctx, cancel := context.WithTimeout(ctx, timeout)
		out, err := call(cctx)
		cancel()
		if !errors.Is(err, p2p.ErrRateLimited) || waited >= forwardBusyWait {
			return out, err
		}
		r.m.forwarded.WithLabelValues("out", "backoff").Inc()
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
		waited += pause
		pause = min(2*pause, forwardBackoffLongest)
	}
}

// isAnswer reports whether err is the leader's verdict on the request
// (which another member would repeat), rather than a transport failure.
func isAnswer(err error) bool {
	var we *wasm.Error
	if errors.As(err, &we) {
		return true
	}
	for _, c := range fwdCodes {
		if errors.Is(err, c.err) {
			return true
		}
	}
	return false
}

// call forwards one request to member leader and verifies the answer.
func (r *Replica) call(ctx context.Context, c *consensus.Committee, leader id.Node, payload []byte, req chain.Request) (*chain.Outcome, error) {
	raw, err := r.net.Exec().Call(ctx, leader, payload)
	if err != nil {
		return nil, fmt.Errorf("forward to %s: %w", leader, err)
	}
	var resp fwdResp
	if err := codec.Unmarshal(raw, &resp); err != nil {
		return nil, fmt.Errorf("forward to %s: %w: %v", leader, ErrBadForward, err)
	}
	if resp.Err != nil {
		return nil, resp.Err.decode(leader)
	}
	rc := resp.Receipt
	switch {
	case rc == nil:
		return nil, fmt.Errorf("forward to %s: %w: no receipt", leader, ErrBadForward)
	case rc.Receipt.Program != req.Program:
		return nil, fmt.Errorf("forward to %s: %w: receipt of another program", leader, ErrBadForward)
	case rc.Receipt.InputHash != id.Sum(req.Input):
		return nil, fmt.Errorf("forward to %s: %w: receipt of another input", leader, ErrBadForward)
	case rc.Receipt.OutputHash != id.Sum(resp.Output):
		return nil, fmt.Errorf("forward to %s: %w: output does not match the receipt", leader, ErrBadForward)
	}
	if err := rc.Verify(c); err != nil {
		return nil, fmt.Errorf("forward to %s: %w: %w", leader, ErrBadForward, err)
	}
	return &chain.Outcome{Output: resp.Output, FuelUsed: resp.FuelUsed, Logs: fromFwdLogs(resp.Logs), Receipt: rc, Replayed: resp.Replayed}, nil
}

// serveForward executes a request forwarded by another validator. It only
// ever executes here: a node that is not the program's finalizer answers
// not_in_committee and the sender tries the next member, so a request
// never travels more than one hop.
func (r *Replica) serveForward(ctx context.Context, from id.Node, payload []byte) ([]byte, error) {
	var req fwdReq
	if err := codec.Unmarshal(payload, &req); err != nil {
		r.m.forwarded.WithLabelValues("in", "malformed").Inc()
		return nil, fmt.Errorf("forwarded request from %s: malformed", from)
	}
	if req.Job != nil {
		ans, err := r.serveJob(ctx, req.Job)
		if err != nil {
			r.m.forwarded.WithLabelValues("in_job", "error").Inc()
			return codec.Marshal(&fwdResp{Err: encodeErr(err)})
		}
		r.m.forwarded.WithLabelValues("in_job", "ok").Inc()
		return codec.Marshal(&fwdResp{Job: ans})
	}
	out, err := r.executeLocal(ctx, chain.Request{
		Program: req.Program, Input: req.Input, RequestID: req.RequestID, Fuel: req.Fuel,
		Timeout: time.Duration(max(req.TimeoutMS, 0)) * time.Millisecond,
	})
	var resp fwdResp
	if err != nil {
		r.m.forwarded.WithLabelValues("in", "error").Inc()
		r.log.Debug("forwarded execution failed", "program", req.Program.String(), "peer", from.String(), "err", err)
		resp.Err = encodeErr(err)
	} else {
		r.m.forwarded.WithLabelValues("in", "ok").Inc()
		resp = fwdResp{Output: out.Output, FuelUsed: out.FuelUsed, Logs: toFwdLogs(out.Logs), Receipt: out.Receipt, Replayed: out.Replayed}
	}
	return codec.Marshal(&resp)
}

// executeLocal runs req on this node's engine, behind the min-peers gate.
func (r *Replica) executeLocal(ctx context.Context, req chain.Request) (*chain.Outcome, error) {
	if err := r.gate(); err != nil {
		return nil, err
	}
	if _, err := r.awaitProgram(ctx, req.Program, DefaultUnseenWait); err != nil {
		return nil, err
	}
	return r.chain.Execute(ctx, req)
}
