package job

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"unicode/utf8"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/id"
)

// Limits of a submission.
const (
	MaxRequestID     = 256 // bytes, as the chain's request ids
	MaxMetadataPairs = 64
	MaxMetadataKey   = 128
	MaxMetadataValue = 1024
)

// SubmitRequest is one job submission (POST /jobs).
type SubmitRequest struct {
	RequestID  string     // idempotency key, required
	Program    id.Program // must be deployed (known to this node)
	Input      []byte     // inline input, stored as a blob
	InputBlob  *id.Blob   // or an input blob; it may arrive later (transient failure until then)
	MaxRetries *uint32    // nil: DefaultMaxRetries
	TimeoutMS  int64      // 0: the node's execution timeout; capped at execution.max_timeout
	FuelLimit  uint64     // 0: the node's default; capped at execution.max_fuel
	TTLMS      int64      // 0: none; a job still pending after it expires
	Metadata   map[string]string
}

func (r *SubmitRequest) validate(maxInput int) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	switch {
	case r.RequestID == "":
		return bad("request_id is required")
	case len(r.RequestID) > MaxRequestID || !utf8.ValidString(r.RequestID):
		return bad("request_id must be valid UTF-8 of at most %d bytes", MaxRequestID)
	case r.InputBlob != nil && len(r.Input) > 0:
		return bad("give input_base64 or input_blob_id, not both")
	case len(r.Input) > maxInput:
		return fmt.Errorf("%w: %d bytes (max %d)", ErrInputTooLarge, len(r.Input), maxInput)
	case r.MaxRetries != nil && *r.MaxRetries > MaxRetriesLimit:
		return bad("max_retries must be at most %d", MaxRetriesLimit)
	case r.TimeoutMS < 0 || r.TTLMS < 0:
		return bad("timeout_ms and ttl_ms must not be negative")
	case len(r.Metadata) > MaxMetadataPairs:
		return bad("at most %d metadata entries", MaxMetadataPairs)
	}
	for k, v := range r.Metadata {
		if k == "" || len(k) > MaxMetadataKey || len(v) > MaxMetadataValue || !utf8.ValidString(k) || !utf8.ValidString(v) {
			return bad("metadata keys must be 1 to %d bytes and values at most %d bytes of UTF-8", MaxMetadataKey, MaxMetadataValue)
		}
	}
	return nil
}

// Submit creates the job of req, or returns the existing job with the same
// id — BLAKE3(program ‖ request id) — when its payload is the same
// (created false). The same request id with another payload is a
// *ConflictError naming the fields that differ. An unknown program is the
// executor's not-found error; a full queue ErrQueueFull. The job is
// durable when Submit returns.
func (s *Service) Submit(ctx context.Context, req SubmitRequest) (*Job, bool, error) {
	if s.closed.Load() {
		return nil, false, ErrClosed
	}
	if err := req.validate(s.limits.MaxInput); err != nil {
		s.metrics.submitted.WithLabelValues("rejected").Inc()
		return nil, false, err
	}
	if _, err := s.exec.Manifest(req.Program); err != nil {
		s.metrics.submitted.WithLabelValues("rejected").Inc()
		return nil, false, fmt.Errorf("submit job: %w", err)
	}
	want := Job{
		ID: id.JobOf(req.Program, req.RequestID), RequestID: req.RequestID, Program: req.Program, Status: Pending,
		MaxRetries: DefaultMaxRetries, TimeoutMS: req.TimeoutMS, FuelLimit: req.FuelLimit, TTLMS: req.TTLMS,
		Metadata: maps.Clone(req.Metadata),
	}
	if len(want.Metadata) == 0 {
		want.Metadata = nil
	}
	if req.MaxRetries != nil {
		want.MaxRetries = *req.MaxRetries
	}
	switch {
	case req.InputBlob != nil:
		want.HasInput, want.Input = true, *req.InputBlob
	case len(req.Input) > 0:
		want.HasInput, want.Input = true, id.BlobOf(req.Input)
	}
	// A repeated submission is answered without storing anything.
	if cur, ok, err := load(s.db, want.ID); err != nil || ok {
		return s.existing(cur, &want, err)
	}
	inline := len(req.Input) > 0 && len(req.Input) <= s.opts.InlineMax
	if len(req.Input) > 0 && !inline {
		if _, _, err := s.blobs.Put(ctx, bytes.NewReader(req.Input), "application/octet-stream"); err != nil {
			return nil, false, fmt.Errorf("submit job %s: store input: %w", want.ID, err)
		}
	}
	want.InputInline = inline
	unlock := s.locks.lock(want.ID)
	defer unlock()
	if cur, ok, err := load(s.db, want.ID); err != nil || ok {
		return s.existing(cur, &want, err)
	}
	if s.pending.Add(1) > int64(s.opts.MaxPending) {
		s.pending.Add(-1)
		s.metrics.submitted.WithLabelValues("rejected").Inc()
		return nil, false, fmt.Errorf("submit job %s: %w (%d pending, jobs.max_pending)", want.ID, ErrQueueFull, s.opts.MaxPending)
	}
	now := s.now()
	want.CreatedAt, want.NextAttemptAt = now, now
	want.QueueAt = max(want.runAt(), 1)
	b := s.db.NewBatch()
	defer b.Close()
	err := appendLogs(b, &want, s.opts.MaxLogBytes, note(now, 0, LevelInfo, "submitted with request id %q", want.RequestID))
	if err == nil {
		err = stage(b, nil, &want)
	}
	var copySeq int64
	if err == nil && inline {
		if err = b.Set(inputKey(want.ID), req.Input, nil); err == nil {
			copySeq, err = s.stageCopy(b, copyInput, want.ID)
		}
	}
	if err == nil {
		err = b.Commit(pebble.Sync)
	}
	if err != nil {
		s.pending.Add(-1)
		return nil, false, fmt.Errorf("submit job %s: %w", want.ID, err)
	}
	s.metrics.submitted.WithLabelValues("created").Inc()
	s.watch.notify(want.ID)
	if inline {
		s.copyQueued(copySeq)
	}
	s.queued(want.QueueAt)
	return &want, true, nil
}

// existing answers a submission whose job id is stored: the stored job
// when the payload matches (or it is a peer's record, whose payload is not
// known here), a *ConflictError otherwise.
func (s *Service) existing(cur, want *Job, err error) (*Job, bool, error) {
	if err != nil {
		return nil, false, err
	}
	if diff := conflicts(cur, want); len(diff) > 0 && !cur.Imported {
		s.metrics.submitted.WithLabelValues("conflict").Inc()
		return cur, false, fmt.Errorf("submit job %s: %w", cur.ID, &ConflictError{Fields: diff})
	}
	s.metrics.submitted.WithLabelValues("existing").Inc()
	return cur, false, nil
}

// conflicts names the payload fields of want that differ from cur.
func conflicts(cur, want *Job) []string {
	var out []string
	if cur.HasInput != want.HasInput || cur.Input != want.Input {
		out = append(out, "input")
	}
	if cur.MaxRetries != want.MaxRetries {
		out = append(out, "max_retries")
	}
	if cur.TimeoutMS != want.TimeoutMS {
		out = append(out, "timeout_ms")
	}
	if cur.FuelLimit != want.FuelLimit {
		out = append(out, "fuel_limit")
	}
	if cur.TTLMS != want.TTLMS {
		out = append(out, "ttl_ms")
	}
	if !maps.Equal(cur.Metadata, want.Metadata) {
		out = append(out, "metadata")
	}
	return out
}

// Cancel cancels a pending or running job and returns it. A running
// guest is stopped; the cancelled record is durable before it is, and the
// attempt's transition cannot commit after it (see preCommit). An unknown
// job is ErrNotFound; a finished one ErrTerminal (returned with the job).
func (s *Service) Cancel(ctx context.Context, j id.Job) (*Job, error) {
	unlock := s.locks.lock(j)
	defer unlock()
	cur, ok, err := load(s.db, j)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("cancel job %s: %w", j, ErrNotFound)
	}
	if cur.Status.Terminal() {
		// What is refused must be durable: its commit may still be syncing.
		if err := s.db.LogData(nil, pebble.Sync); err != nil {
			return nil, err
		}
		return cur, fmt.Errorf("cancel job %s: %w (%s)", j, ErrTerminal, cur.Status)
	}
	now := s.now()
	next, err := Apply(*cur, Event{Kind: EvCancel, At: now})
	if err != nil {
		return nil, err
	}
	b := s.db.NewBatch()
	defer b.Close()
	what := "while pending"
	if cur.Status == Running {
		what = fmt.Sprintf("during attempt %d", cur.Attempts)
	}
	if err := appendLogs(b, &next, s.opts.MaxLogBytes, note(now, cur.Attempts, LevelWarn, "cancelled by client %s", what)); err != nil {
		return nil, err
	}
	if err := stage(b, cur, &next); err != nil {
		return nil, err
	}
	l := s.apiLane
	l.commitMu.Lock()
	undo, err := s.stageTerminal(b, l, &next)
	if err == nil {
		if err = b.Commit(pebble.Sync); err != nil {
			undo()
		}
	}
	l.commitMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("cancel job %s: %w", j, err)
	}
	if cur.Status == Pending {
		s.pending.Add(-1)
	} else {
		s.runMu.Lock()
		if a := s.running[j]; a != nil && a.n == cur.Attempts {
			a.cancel(errCancelledByClient)
		}
		s.runMu.Unlock()
	}
	s.finished(cur.Status, &next, -1)
	return &next, nil
}
