package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/onvm-network/onvm/client/wire"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/job"
	"github.com/onvm-network/onvm/internal/wasm"
)

// JobService is what the job routes and the health endpoints need from
// internal/job (its *Service).
type JobService interface {
	Submit(ctx context.Context, req job.SubmitRequest) (*job.Job, bool, error)
	Get(j id.Job) (*job.Job, error)
	Wait(ctx context.Context, j id.Job, until func(*job.Job) bool) (*job.Job, error)
	Cancel(ctx context.Context, j id.Job) (*job.Job, error)
	List(q job.ListQuery) (*job.Page, error)
	Logs(j id.Job) ([]job.LogEntry, error)
	Output(ctx context.Context, j id.Job) ([]byte, *job.Job, error)
	Stats() job.Stats
}

// MaxJobWait bounds the long-poll of GET /jobs/{id}?wait=.
const MaxJobWait = 60 * time.Second

func (s *Server) jobRoutes(r *router) {
	if s.opts.JobService == nil {
		return
	}
	r.handle(http.MethodPost, "/jobs", s.submitJob)
	r.handle(http.MethodGet, "/jobs", s.listJobs)
	r.handle(http.MethodGet, "/jobs/{id}", s.getJob)
	r.handle(http.MethodGet, "/jobs/{id}/output", s.jobOutput)
	r.handle(http.MethodGet, "/jobs/{id}/logs", s.jobLogs)
	r.handle(http.MethodPost, "/jobs/{id}/cancel", s.cancelJob)
}

func (s *Server) submitJob(w http.ResponseWriter, r *http.Request) {
	maxInput := int64(wasm.DefaultMaxInput)
	if s.opts.Programs != nil {
		maxInput = int64(s.opts.Programs.Limits().MaxInput)
	}
	max := maxInput/3*4 + 64<<10 // base64 input + the rest
	var body wire.SubmitJobRequest
	if err := decodeJSONBody(w, r, max, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	req, err := parseSubmit(&body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	j, created, err := s.opts.JobService.Submit(r.Context(), req)
	if err != nil {
		if errors.Is(err, job.ErrQueueFull) {
			w.Header().Set("Retry-After", "1")
		}
		s.writeError(w, r, err)
		return
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	w.Header().Set("Location", "/jobs/"+j.ID.String())
	writeJSON(w, code, wire.SubmitJobResult{JobID: j.ID.String(), Status: jobStatus(j.Status)})
}

func parseSubmit(body *wire.SubmitJobRequest) (job.SubmitRequest, error) {
	req := job.SubmitRequest{
		RequestID: body.RequestID, MaxRetries: body.MaxRetries, TimeoutMS: body.TimeoutMS,
		FuelLimit: body.FuelLimit, TTLMS: body.TTLMS, Metadata: body.Metadata,
	}
	p, err := id.ParseProgram(body.ProgramID)
	if err != nil {
		return req, err
	}
	req.Program = p
	switch {
	case body.InputBlobID != nil:
		b, err := id.ParseBlob(*body.InputBlobID)
		if err != nil {
			return req, err
		}
		req.InputBlob = &b
	case body.InputBase64 != nil:
		in, err := decodeBase64(*body.InputBase64)
		if err != nil {
			return req, badRequest("invalid_base64", "input_base64 is not base64", err)
		}
		req.Input = in
	}
	return req, nil
}

// jobInfo is a job as the API shows it: the original's fields and the
// scheduler's.
func jobInfo(j *job.Job) wire.Job {
	opt := func(v int64) *int64 {
		if v == 0 {
			return nil
		}
		return &v
	}
	info := wire.Job{
		JobID: j.ID.String(), RequestID: j.RequestID, ProgramID: j.Program.String(), Status: jobStatus(j.Status),
		FuelConsumed: j.FuelConsumed,
		CreatedAt:    j.CreatedAt, StartedAt: opt(j.StartedAt), CompletedAt: opt(j.CompletedAt), RetryCount: j.RetryCount,
		Metadata: j.Metadata, NextAttemptAt: opt(j.NextAttemptAt), MaxRetries: j.MaxRetries, Attempts: j.Attempts,
		TimeoutMS: j.TimeoutMS, FuelLimit: j.FuelLimit, TTLMS: j.TTLMS,
	}
	if info.Metadata == nil {
		info.Metadata = map[string]string{}
	}
	if j.Status != job.Pending {
		info.NextAttemptAt = nil
	}
	if d, ok := j.DurationMS(); ok {
		info.DurationMS = &d
	}
	if j.Error != "" {
		info.ErrorMessage = &j.Error
	}
	if j.Reason != job.ReasonNone {
		r := j.Reason.String()
		info.FailureReason = &r
	}
	if j.Receipt != (id.Hash{}) {
		info.ReceiptID = text(j.Receipt)
	}
	if j.HasOutput {
		info.OutputBlobID = text(j.Output)
	}
	if j.HasInput {
		info.InputBlobID = text(j.Input)
	}
	if j.Imported {
		info.Executor = text(j.Executor)
	}
	return info
}

// getJob returns a job. With ?wait=DURATION (Go syntax, e.g. 30s, or
// milliseconds; at most 60s) it is a long-poll: the answer comes when the
// job is terminal, or when its status differs from ?status= (the status
// the client last saw), or when the wait is over — whichever is first.
func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	jid, err := id.ParseJob(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	if q.Get("wait") == "" {
		j, err := s.opts.JobService.Get(jid)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, jobInfo(j))
		return
	}
	wait, err := parseWait(q.Get("wait"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var seen job.Status
	if v := q.Get("status"); v != "" {
		if seen, err = parseJobStatus(v); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	// The connection's write deadline must outlast the wait.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(wait + s.opts.RPC.WriteTimeout))
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	j, err := s.opts.JobService.Wait(ctx, jid, func(j *job.Job) bool {
		return j.Status.Terminal() || (seen != 0 && j.Status != seen)
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, jobInfo(j))
}

func parseWait(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		ms, err2 := strconv.ParseInt(v, 10, 64)
		if err2 != nil {
			return 0, badRequest(wire.CodeInvalidWait, "wait must be a duration such as 30s, or milliseconds", err)
		}
		d = time.Duration(ms) * time.Millisecond
	}
	if d < 0 {
		return 0, badRequest(wire.CodeInvalidWait, "wait must not be negative", nil)
	}
	return min(d, MaxJobWait), nil
}

func (s *Server) jobOutput(w http.ResponseWriter, r *http.Request) {
	jid, err := id.ParseJob(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, j, err := s.opts.JobService.Output(r.Context(), jid)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res := wire.JobOutput{JobID: j.ID.String(), OutputBase64: b64(out), Size: len(out)}
	if j.HasOutput {
		res.OutputBlobID = text(j.Output)
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) jobLogs(w http.ResponseWriter, r *http.Request) {
	jid, err := id.ParseJob(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	logs, err := s.opts.JobService.Logs(jid)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := wire.JobLogs{JobID: jid.String()}
	if logs != nil {
		out.Logs = make([]wire.JobLog, len(logs))
	}
	for i, l := range logs {
		out.Logs[i] = wire.JobLog{Timestamp: l.Timestamp, Level: l.Level, Source: l.Source, Message: l.Message, Attempt: l.Attempt}
	}
	writeJSON(w, http.StatusOK, out)
}

// cancelJob cancels a pending or running job: 200 with the job, 404 for an
// unknown job, 409 for a finished one.
func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) {
	jid, err := id.ParseJob(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	j, err := s.opts.JobService.Cancel(r.Context(), jid)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, jobInfo(j))
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	limit, err := pageLimit(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	lq := job.ListQuery{Cursor: q.Get("cursor"), Limit: limit}
	if v := q.Get("status"); v != "" {
		if lq.Status, err = parseJobStatus(v); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if v := q.Get("program_id"); v != "" {
		p, err := id.ParseProgram(v)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		lq.Program = &p
	}
	page, err := s.opts.JobService.List(lq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := wire.JobPage{Jobs: make([]wire.Job, len(page.Jobs)), Total: len(page.Jobs)}
	for i, j := range page.Jobs {
		out.Jobs[i] = jobInfo(j)
	}
	if page.Next != "" {
		out.NextCursor = &page.Next
	}
	writeJSON(w, http.StatusOK, out)
}
