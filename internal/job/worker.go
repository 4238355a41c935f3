package job

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/wasm"
)

// maxErrorText bounds a stored error message (the replicated record's
// limit).
const maxErrorText = 4096

// attemptState is what the pre-commit hook tells its attempt.
type attemptState struct {
	done    *Job   // the completed record the transition applied
	release func() // gives back the guest slot (idempotent)
}

// attempt runs one attempt through the chain engine with the job's
// request id: a transition this job already committed (or that /execute
// committed under the same request id) is replayed, never applied twice.
//
// The attempt holds the guest slot the dispatcher claimed it with until
// its guest has finished (the pre-commit hook gives it back): guests
// running at once are bounded by max_concurrent, while the waits for the
// transition's commit and WAL sync overlap across the larger number of
// attempts in flight (workers), which pebble syncs together.
func (s *Service) attempt(w *worker, c *claimed) {
	j := c.job
	var once sync.Once
	st := &attemptState{release: func() { once.Do(func() { <-s.guests }) }}
	defer func() {
		st.release()
		c.cancel(nil)
		s.stopRunning(j)
		if s.pending.Load() == 0 && s.runningCount() == 0 {
			s.kickCopier() // the scheduler fell idle: background copies may run
		}
	}()
	began := time.Now()
	var out *chain.Outcome
	err := c.ctx.Err()
	if err == nil {
		var input []byte
		if input, err = s.readInput(c.ctx, j); err == nil {
			out, err = s.exec.Execute(c.ctx, chain.Request{
				Program:   j.Program,
				Input:     input,
				RequestID: j.RequestID,
				Fuel:      j.FuelLimit,
				Timeout:   time.Duration(j.TimeoutMS) * time.Millisecond,
				PreCommit: s.preCommit(w, j, st),
			})
		}
	}
	elapsed := time.Since(began)
	if err == nil {
		s.succeeded(w, j, out, st.done, elapsed)
		return
	}
	if st.done != nil {
		// Applied, then its WAL sync failed: the store is failing; recovery
		// at the next start settles the job.
		s.log.Error("job transition applied but not synced", "job", j.ID, "err", err)
		return
	}
	if errors.Is(err, errNotRunning) {
		return // cancelled during the attempt; Cancel recorded it
	}
	var cause error
	if c.ctx.Err() != nil {
		cause = context.Cause(c.ctx)
	}
	s.failed(w, j, classify(err, cause), err, elapsed)
}

// stopRunning forgets j's running attempt (no cancel reaches it any more).
func (s *Service) stopRunning(j *Job) {
	s.runMu.Lock()
	if a := s.running[j.ID]; a != nil && a.n == j.Attempts {
		delete(s.running, j.ID)
	}
	s.runMu.Unlock()
}

// readInput returns the job's input: empty, kept inline with the job, or
// its input blob read from the local store (a blob not stored here yet is
// a transient failure).
func (s *Service) readInput(ctx context.Context, j *Job) ([]byte, error) {
	if !j.HasInput {
		return nil, nil
	}
	if j.InputInline {
		in, ok, err := getValue(s.db, inputKey(j.ID))
		if err != nil || !ok {
			return nil, fmt.Errorf("job %s inline input: %w (present %v)", j.ID, errorsJoin(err, ErrCorrupt), ok)
		}
		return in, nil
	}
	r, err := s.blobs.Open(ctx, j.Input)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", j.Input, err)
	}
	defer r.Close()
	if r.Size() > int64(s.limits.MaxInput) {
		return nil, fmt.Errorf("input %s: %w: %d bytes (max %d)", j.Input, chain.ErrInputTooLarge, r.Size(), s.limits.MaxInput)
	}
	buf := make([]byte, r.Size())
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("input %s: %w", j.Input, err)
	}
	return buf, nil
}

// preCommit returns the hook that makes job j's completed record part of
// its transition's batch. It runs under the program's lock; it takes the
// job's lock and keeps it until the batch is applied, so a cancel either
// comes first (the hook sees it and aborts the transition: no state is
// committed) or after (the job is completed and the cancel is refused).
func (s *Service) preCommit(w *worker, j *Job, st *attemptState) func(*pebble.Batch, *chain.Outcome) (func(bool), error) {
	return func(b *pebble.Batch, o *chain.Outcome) (func(bool), error) {
		st.release() // the guest is done
		unlock := s.locks.lock(j.ID)
		sc, err := s.stageSuccess(b, w.lane, j, o)
		if err != nil {
			unlock()
			return nil, err
		}
		return func(applied bool) {
			if !applied {
				sc.undo()
				unlock()
				return
			}
			st.done = sc.job
			unlock()
			s.copyQueued(sc.copySeq)
		}, nil
	}
}

// stageSuccess stages the completion of attempt j (whose lock is held)
// with outcome o into b, if the job is still running that attempt.
func (s *Service) stageSuccess(b *pebble.Batch, l *lane, j *Job, o *chain.Outcome) (*success, error) {
	cur, ok, err := load(s.db, j.ID)
	if err != nil {
		return nil, err
	}
	if !ok || cur.Status != Running || cur.Attempts != j.Attempts {
		return nil, fmt.Errorf("job %s: %w", j.ID, errNotRunning)
	}
	if int64(len(o.Output)) > s.opts.MaxOutput {
		return nil, fmt.Errorf("job %s: %w: %d bytes (max %d)", j.ID, errOutputLimit, len(o.Output), s.opts.MaxOutput)
	}
	now := s.now()
	rid := o.ReceiptID()
	next, err := Apply(*cur, Event{Kind: EvSucceed, At: now, Fuel: o.FuelUsed, Receipt: rid,
		Output: id.BlobOf(o.Output), OutputSize: int64(len(o.Output))})
	if err != nil {
		return nil, err
	}
	logs := guestLogs(now, next.Attempts, o.Logs)
	msg := "completed: fuel %d, receipt %s"
	if o.Replayed {
		msg = "completed: request already executed, replayed its transition (fuel %d, receipt %s)"
	}
	logs = append(logs, note(now, next.Attempts, LevelInfo, msg, o.FuelUsed, rid))
	if err := appendLogs(b, &next, s.opts.MaxLogBytes, logs...); err != nil {
		return nil, err
	}
	if err := stage(b, cur, &next); err != nil {
		return nil, err
	}
	// The output is durable in the transition's record (same batch); its
	// copy into the blob store, which serves and replicates it, is queued
	// with it and made in the background (copier.go).
	seq, err := s.stageCopy(b, copyOutput, next.ID)
	if err != nil {
		return nil, err
	}
	undo, err := s.stageTerminal(b, l, &next)
	if err != nil {
		return nil, err
	}
	return &success{job: &next, undo: undo, copySeq: seq}, nil
}

// success is a staged completion.
type success struct {
	job     *Job
	undo    func() // reverts the lane's count if the batch does not commit
	copySeq int64  // the output copy's queue time, reported once committed
}

// succeeded finishes a job whose transition committed (or was replayed):
// it records a replayed completion, stores the output blob and reports.
func (s *Service) succeeded(w *worker, j *Job, o *chain.Outcome, done *Job, elapsed time.Duration) {
	if done == nil {
		// Replayed: no transition ran now, so no hook did; record it here.
		var err error
		if done, err = s.recordReplay(w, j, o); err != nil {
			if !errors.Is(err, errNotRunning) {
				s.log.Error("record job completion", "job", j.ID, "err", err)
			}
			return
		}
	}
	s.finished(Running, done, elapsed)
}

func (s *Service) recordReplay(w *worker, j *Job, o *chain.Outcome) (*Job, error) {
	unlock := s.locks.lock(j.ID)
	defer unlock()
	b := s.db.NewBatch()
	defer b.Close()
	sc, err := s.stageSuccess(b, w.lane, j, o)
	if err != nil {
		return nil, err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		sc.undo()
		return nil, err
	}
	s.copyQueued(sc.copySeq)
	return sc.job, nil
}

// failed records a failed attempt: a retry with backoff, a terminal
// failure or timeout, or a requeue when the node is stopping.
func (s *Service) failed(w *worker, j *Job, v verdict, cause error, elapsed time.Duration) {
	if v.kind == EvCancel {
		return // Cancel recorded it before stopping the guest
	}
	next, err := s.recordFailure(w, j, v, cause)
	if err != nil {
		if !errors.Is(err, errNotRunning) {
			s.log.Error("record job failure", "job", j.ID, "err", err)
		}
		return
	}
	switch {
	case next.Status == Pending:
		s.pending.Add(1)
		s.metrics.transition(Running, Pending)
		if v.kind == EvFail {
			s.metrics.retries.WithLabelValues(v.reason.String()).Inc()
		}
		s.watch.notify(j.ID)
		s.queued(next.QueueAt)
	default:
		s.finished(Running, next, elapsed)
	}
}

func (s *Service) recordFailure(w *worker, j *Job, v verdict, cause error) (*Job, error) {
	unlock := s.locks.lock(j.ID)
	defer unlock()
	cur, ok, err := load(s.db, j.ID)
	if err != nil {
		return nil, err
	}
	if !ok || cur.Status != Running || cur.Attempts != j.Attempts {
		return nil, errNotRunning // cancelled meanwhile
	}
	now := s.now()
	ev := Event{Kind: v.kind, At: now, Fuel: v.fuel, Reason: v.reason, Message: errorText(cause), Transient: v.transient}
	if v.kind == EvFail && v.transient {
		ev.Backoff = s.opts.Backoff.Delay(cur.RetryCount+1, s.opts.Rand())
	}
	next, err := Apply(*cur, ev)
	if err != nil {
		return nil, err
	}
	var logs []LogEntry
	var we *wasm.Error
	if errors.As(cause, &we) {
		logs = guestLogs(now, cur.Attempts, we.Logs)
	}
	switch {
	case v.kind == EvRequeue:
		next.QueueAt = max(next.runAt(), 1)
		logs = append(logs, note(now, cur.Attempts, LevelWarn, "attempt %d stopped: node shutting down; requeued", cur.Attempts))
	case next.Status == Pending:
		next.QueueAt = max(next.runAt(), 1)
		logs = append(logs, note(now, cur.Attempts, LevelWarn, "attempt %d failed (%s): %s; retry %d/%d in %s",
			cur.Attempts, v.reason, ev.Message, next.RetryCount, next.MaxRetries, ev.Backoff.Round(time.Millisecond)))
	case next.Status == TimedOut:
		logs = append(logs, note(now, cur.Attempts, LevelError, "attempt %d timed out: %s", cur.Attempts, ev.Message))
	default:
		logs = append(logs, note(now, cur.Attempts, LevelError, "attempt %d failed (%s): %s", cur.Attempts, v.reason, ev.Message))
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := appendLogs(b, &next, s.opts.MaxLogBytes, logs...); err != nil {
		return nil, err
	}
	if err := stage(b, cur, &next); err != nil {
		return nil, err
	}
	undo := func() {}
	if next.Status.Terminal() {
		if undo, err = s.stageTerminal(b, w.lane, &next); err != nil {
			return nil, err
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		undo()
		return nil, err
	}
	return &next, nil
}

// finished reports a job that became terminal: metrics, the durations
// window, long-polls and the replicator. elapsed < 0: it did not run.
func (s *Service) finished(from Status, j *Job, elapsed time.Duration) {
	s.metrics.transition(from, j.Status)
	s.metrics.fuel.Add(float64(j.FuelConsumed))
	if elapsed >= 0 {
		s.metrics.duration.WithLabelValues(j.Status.String()).Observe(elapsed.Seconds())
		if enc := s.durations.add(elapsed.Milliseconds()); enc != nil {
			if err := s.db.Set([]byte(durationsKey), enc, pebble.NoSync); err != nil {
				s.log.Warn("persist job durations", "err", err)
			}
		}
	}
	s.watch.notify(j.ID)
}

// errorText is the stored message of a failure: at most maxErrorText
// bytes of valid UTF-8.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	var we *wasm.Error
	if errors.As(err, &we) {
		msg = we.Error()
	}
	msg = string(bytes.ToValidUTF8([]byte(msg), []byte("\uFFFD")))
	if len(msg) > maxErrorText {
		cut := maxErrorText
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut]
	}
	return msg
}
