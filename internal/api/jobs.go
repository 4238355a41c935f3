package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

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

// SubmitJobRequest is the body of POST /jobs: the original's fields
// (input_blob_id takes precedence over input_base64, max_retries defaults
// to 3) plus limits and a ttl.
type SubmitJobRequest struct {
	RequestID   string            `json:"request_id"`
	ProgramID   string            `json:"program_id"`
	InputBase64 *string           `json:"input_base64"`
	InputBlobID *string           `json:"input_blob_id"`
	MaxRetries  *uint32           `json:"max_retries"`
	TimeoutMS   int64             `json:"timeout_ms"`
	FuelLimit   uint64            `json:"fuel_limit"`
	Metadata    map[string]string `json:"metadata"`
	TTLMS       int64             `json:"ttl_ms"`
}

// SubmitJobResult is the response to POST /jobs (the original's shape):
// 201 when the job was created, 200 when the request id names an existing
// job with the same payload.
type SubmitJobResult struct {
	JobID  id.Job     `json:"job_id"`
	Status job.Status `json:"status"`
}

func (s *Server) submitJob(w http.ResponseWriter, r *http.Request) {
	maxInput := int64(wasm.DefaultMaxInput)
	if s.opts.Programs != nil {
		maxInput = int64(s.opts.Programs.Limits().MaxInput)
	}
	max := maxInput/3*4 + 64<<10 // base64 input + the rest
	var body SubmitJobRequest
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
	writeJSON(w, code, SubmitJobResult{JobID: j.ID, Status: j.Status})
}

func parseSubmit(body *SubmitJobRequest) (job.SubmitRequest, error) {
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

// JobInfo is a job as the API shows it: the original's fields
// (job_id … metadata) and the scheduler's.
type JobInfo struct {
	JobID         id.Job            `json:"job_id"`
	RequestID     string            `json:"request_id"`
	ProgramID     id.Program        `json:"program_id"`
	Status        job.Status        `json:"status"`
	FuelConsumed  uint64            `json:"fuel_consumed"`
	CreatedAt     int64             `json:"created_at"`
	StartedAt     *int64            `json:"started_at"`
	CompletedAt   *int64            `json:"completed_at"`
	DurationMS    *int64            `json:"duration_ms"`
	RetryCount    uint32            `json:"retry_count"`
	ErrorMessage  *string           `json:"error_message"`
	Metadata      map[string]string `json:"metadata"`
	FailureReason *string           `json:"failure_reason"`
	NextAttemptAt *int64            `json:"next_attempt_at"`
	ReceiptID     *id.Hash          `json:"receipt_id"`
	OutputBlobID  *id.Blob          `json:"output_blob_id"`
	InputBlobID   *id.Blob          `json:"input_blob_id"`
	MaxRetries    uint32            `json:"max_retries"`
	Attempts      uint32            `json:"attempts"`
	TimeoutMS     int64             `json:"timeout_ms"` // 0: the node's default
	FuelLimit     uint64            `json:"fuel_limit"` // 0: the node's default
	TTLMS         int64             `json:"ttl_ms"`     // 0: none
	Executor      *id.Node          `json:"executor,omitempty"`
}

func jobInfo(j *job.Job) JobInfo {
	opt := func(v int64) *int64 {
		if v == 0 {
			return nil
		}
		return &v
	}
	info := JobInfo{
		JobID: j.ID, RequestID: j.RequestID, ProgramID: j.Program, Status: j.Status, FuelConsumed: j.FuelConsumed,
		CreatedAt: j.CreatedAt, StartedAt: opt(j.StartedAt), CompletedAt: opt(j.CompletedAt), RetryCount: j.RetryCount,
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
		info.ReceiptID = &j.Receipt
	}
	if j.HasOutput {
		info.OutputBlobID = &j.Output
	}
	if j.HasInput {
		info.InputBlobID = &j.Input
	}
	if j.Imported {
		info.Executor = &j.Executor
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
		if seen, err = job.ParseStatus(v); err != nil {
			s.writeError(w, r, badRequest("invalid_status", "status is not a job status", err))
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
			return 0, badRequest("invalid_wait", "wait must be a duration such as 30s, or milliseconds", err)
		}
		d = time.Duration(ms) * time.Millisecond
	}
	if d < 0 {
		return 0, badRequest("invalid_wait", "wait must not be negative", nil)
	}
	return min(d, MaxJobWait), nil
}

// JobOutput is the response to GET /jobs/{id}/output: the original's
// fields and the output blob's id.
type JobOutput struct {
	JobID        id.Job   `json:"job_id"`
	OutputBase64 string   `json:"output_base64"`
	Size         int      `json:"size"`
	OutputBlobID *id.Blob `json:"output_blob_id"`
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
	res := JobOutput{JobID: j.ID, OutputBase64: b64(out), Size: len(out)}
	if j.HasOutput {
		res.OutputBlobID = &j.Output
	}
	writeJSON(w, http.StatusOK, res)
}

// JobLogs is the response to GET /jobs/{id}/logs (the original's shape;
// entries also name their source and attempt).
type JobLogs struct {
	JobID id.Job         `json:"job_id"`
	Logs  []job.LogEntry `json:"logs"`
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
	writeJSON(w, http.StatusOK, JobLogs{JobID: jid, Logs: logs})
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

// JobList is the response to GET /jobs: jobs in creation order. total is
// the number of jobs in this page (the original listed every job, so its
// total was the same count); next_cursor continues the listing.
type JobList struct {
	Jobs       []JobInfo `json:"jobs"`
	Total      int       `json:"total"`
	NextCursor *string   `json:"next_cursor"`
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
		if lq.Status, err = job.ParseStatus(v); err != nil {
			s.writeError(w, r, badRequest("invalid_status", "status is not a job status", err))
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
	out := JobList{Jobs: make([]JobInfo, len(page.Jobs)), Total: len(page.Jobs)}
	for i, j := range page.Jobs {
		out.Jobs[i] = jobInfo(j)
	}
	if page.Next != "" {
		out.NextCursor = &page.Next
	}
	writeJSON(w, http.StatusOK, out)
}
