package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/onvm-network/onvm/client/wire"
	"github.com/onvm-network/onvm/internal/id"
)

// SubmitJobRequest is one job submission (POST /jobs). RequestID is the
// idempotency key: the same id for the same program and payload names the
// same job (JobID = BLAKE3(program ‖ request id)); another payload under it
// is a 409 naming the differing fields.
type SubmitJobRequest struct {
	RequestID   string
	ProgramID   string
	Input       []byte // inline input (stored by the node as a blob)
	InputBlobID string // or an input blob; takes precedence over Input
	MaxRetries  *uint32
	TimeoutMS   int64 // 0: the node's default
	FuelLimit   uint64
	TTLMS       int64 // 0: none
	Metadata    map[string]string
}

// JobQuery selects a page of GET /jobs.
type JobQuery struct {
	Status    JobStatus // "" for any
	ProgramID string    // "" for any
	Cursor    string    // a previous page's NextCursor
	Limit     int       // 0: the node's default (100)
}

// SubmitJob submits a job.
func (c *Client) SubmitJob(ctx context.Context, r SubmitJobRequest) (*SubmitJobResult, error) {
	pid, err := id.ParseProgram(r.ProgramID)
	if err != nil {
		return nil, err
	}
	body := wire.SubmitJobRequest{RequestID: r.RequestID, ProgramID: pid.String(), TimeoutMS: r.TimeoutMS,
		FuelLimit: r.FuelLimit, TTLMS: r.TTLMS, MaxRetries: r.MaxRetries}
	if r.InputBlobID != "" {
		b, err := id.ParseBlob(r.InputBlobID)
		if err != nil {
			return nil, err
		}
		s := b.String()
		body.InputBlobID = &s
	} else if r.Input != nil {
		s := base64.StdEncoding.EncodeToString(r.Input)
		body.InputBase64 = &s
	}
	if len(r.Metadata) > 0 {
		body.Metadata = r.Metadata
	}
	var res SubmitJobResult
	code, err := c.sendJSON(ctx, http.MethodPost, "/jobs", body, &res)
	if err != nil {
		return nil, err
	}
	res.Created = code == http.StatusCreated
	return &res, nil
}

func jobPath(jobID string) (string, error) {
	j, err := id.ParseJob(jobID)
	if err != nil {
		return "", err
	}
	return "/jobs/" + j.String(), nil
}

// Job returns a job.
func (c *Client) Job(ctx context.Context, jobID string) (*Job, error) {
	p, err := jobPath(jobID)
	if err != nil {
		return nil, err
	}
	var j Job
	return &j, c.getJSON(ctx, p, &j)
}

// WaitJob long-polls a job: the node answers when the job is terminal, or
// when its status differs from seen (the status the caller last saw; ""
// to wait for a terminal state only), or after wait (at most 60s).
func (c *Client) WaitJob(ctx context.Context, jobID string, seen JobStatus, wait time.Duration) (*Job, error) {
	p, err := jobPath(jobID)
	if err != nil {
		return nil, err
	}
	q := url.Values{"wait": {strconv.FormatInt(wait.Milliseconds(), 10)}}
	if seen != "" {
		q.Set("status", string(seen))
	}
	var j Job
	return &j, c.getJSON(ctx, p+"?"+q.Encode(), &j)
}

// JobOutput returns the output of a completed job (409 job_not_completed
// otherwise).
func (c *Client) JobOutput(ctx context.Context, jobID string) (*JobOutput, error) {
	p, err := jobPath(jobID)
	if err != nil {
		return nil, err
	}
	var o JobOutput
	return &o, c.getJSON(ctx, p+"/output", &o)
}

// JobLogs returns a job's log.
func (c *Client) JobLogs(ctx context.Context, jobID string) (*JobLogs, error) {
	p, err := jobPath(jobID)
	if err != nil {
		return nil, err
	}
	var l JobLogs
	return &l, c.getJSON(ctx, p+"/logs", &l)
}

// CancelJob cancels a pending or running job and returns it (409
// job_terminal when it already finished).
func (c *Client) CancelJob(ctx context.Context, jobID string) (*Job, error) {
	p, err := jobPath(jobID)
	if err != nil {
		return nil, err
	}
	var j Job
	if _, err := c.sendJSON(ctx, http.MethodPost, p+"/cancel", nil, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// Jobs returns a page of jobs.
func (c *Client) Jobs(ctx context.Context, q JobQuery) (*JobPage, error) {
	v := url.Values{}
	if q.Status != "" {
		v.Set("status", string(q.Status))
	}
	if q.ProgramID != "" {
		pid, err := id.ParseProgram(q.ProgramID)
		if err != nil {
			return nil, err
		}
		v.Set("program_id", pid.String())
	}
	if q.Cursor != "" {
		v.Set("cursor", q.Cursor)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	path := "/jobs"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var page JobPage
	return &page, c.getJSON(ctx, path, &page)
}

// sendJSON sends body (nil: none) as JSON and decodes a 2xx answer into
// out, returning the status.
func (c *Client) sendJSON(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return resp.StatusCode, nil
}
