package wire

import "encoding/base64"

// JobStatus is a job's state as the API names it. Pending and Running are
// live; the others are terminal.
type JobStatus string

// Job states (the original's strings).
const (
	JobPending   JobStatus = "pending"   // queued, waiting for its next attempt
	JobRunning   JobStatus = "running"   // an attempt is executing
	JobCompleted JobStatus = "completed" // the transition committed; output stored
	JobFailed    JobStatus = "failed"    // a deterministic failure, or retries exhausted
	JobCancelled JobStatus = "cancelled" // cancelled by a client; never commits state
	JobTimedOut  JobStatus = "timed_out" // the wall-clock limit stopped the guest
	JobExpired   JobStatus = "expired"   // still pending when its ttl ran out
)

// JobStatuses lists every state, live ones first.
var JobStatuses = []JobStatus{JobPending, JobRunning, JobCompleted, JobFailed, JobCancelled, JobTimedOut, JobExpired}

// Terminal reports whether s is final: the job will not change again.
func (s JobStatus) Terminal() bool {
	switch s {
	case JobCompleted, JobFailed, JobCancelled, JobTimedOut, JobExpired:
		return true
	}
	return false
}

// Valid reports whether s is one of the defined states.
func (s JobStatus) Valid() bool { return s.Terminal() || s == JobPending || s == JobRunning }

// SubmitJobRequest is the body of POST /jobs: the original's fields
// (input_blob_id takes precedence over input_base64, max_retries defaults
// to 3) plus limits and a ttl (zero: the node's defaults; no ttl).
type SubmitJobRequest struct {
	RequestID   string            `json:"request_id"`
	ProgramID   string            `json:"program_id"`
	InputBase64 *string           `json:"input_base64,omitempty"`
	InputBlobID *string           `json:"input_blob_id,omitempty"`
	MaxRetries  *uint32           `json:"max_retries,omitempty"`
	TimeoutMS   int64             `json:"timeout_ms"`
	FuelLimit   uint64            `json:"fuel_limit"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	TTLMS       int64             `json:"ttl_ms"`
}

// SubmitJobResult is the answer to POST /jobs: 201 when the job was
// created, 200 when the request id names an existing job with the same
// payload (another payload under it is a 409 request_conflict).
type SubmitJobResult struct {
	JobID  string    `json:"job_id"`
	Status JobStatus `json:"status"`
	// Created is not in the body: the client sets it from the status (201).
	Created bool `json:"-"`
}

// Job is a job as the node reports it (GET /jobs/{id}, POST
// /jobs/{id}/cancel): the original's fields (job_id … metadata) and the
// scheduler's.
type Job struct {
	JobID         string            `json:"job_id"`
	RequestID     string            `json:"request_id"`
	ProgramID     string            `json:"program_id"`
	Status        JobStatus         `json:"status"`
	FuelConsumed  uint64            `json:"fuel_consumed"`
	CreatedAt     int64             `json:"created_at"` // Unix ms, like the other times
	StartedAt     *int64            `json:"started_at"`
	CompletedAt   *int64            `json:"completed_at"`
	DurationMS    *int64            `json:"duration_ms"`
	RetryCount    uint32            `json:"retry_count"`
	ErrorMessage  *string           `json:"error_message"`
	Metadata      map[string]string `json:"metadata"`
	FailureReason *string           `json:"failure_reason"`
	NextAttemptAt *int64            `json:"next_attempt_at"` // pending jobs only
	ReceiptID     *string           `json:"receipt_id"`
	OutputBlobID  *string           `json:"output_blob_id"`
	InputBlobID   *string           `json:"input_blob_id"`
	MaxRetries    uint32            `json:"max_retries"`
	Attempts      uint32            `json:"attempts"`
	TimeoutMS     int64             `json:"timeout_ms"`         // 0: the node's default
	FuelLimit     uint64            `json:"fuel_limit"`         // 0: the node's default
	TTLMS         int64             `json:"ttl_ms"`             // 0: none
	Executor      *string           `json:"executor,omitempty"` // set when another node ran it
}

// Terminal reports whether the job reached a final state.
func (j *Job) Terminal() bool { return j.Status.Terminal() }

// JobOutput is the answer to GET /jobs/{id}/output (409 job_not_completed
// before the job completed): the original's fields and the output blob's id.
type JobOutput struct {
	JobID        string  `json:"job_id"`
	OutputBase64 string  `json:"output_base64"`
	Size         int     `json:"size"`
	OutputBlobID *string `json:"output_blob_id"`
}

// JobLog is one entry of a job's log.
type JobLog struct {
	Timestamp int64  `json:"timestamp"` // Unix ms
	Level     string `json:"level"`     // debug, info, warn, error
	Source    string `json:"source"`
	Message   string `json:"message"`
	Attempt   uint32 `json:"attempt,omitempty"`
}

// JobLogs is the answer to GET /jobs/{id}/logs (the original's shape;
// entries also name their source and attempt).
type JobLogs struct {
	JobID string   `json:"job_id"`
	Logs  []JobLog `json:"logs"`
}

// JobPage is the answer to GET /jobs: jobs in creation order. Total is the
// number of jobs in this page; NextCursor continues the listing.
type JobPage struct {
	Jobs       []Job   `json:"jobs"`
	Total      int     `json:"total"`
	NextCursor *string `json:"next_cursor"`
}

// Output decodes OutputBase64.
func (o *JobOutput) Output() ([]byte, error) { return base64.StdEncoding.DecodeString(o.OutputBase64) }
