package job

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
)

// The replicated record is the DAG's job_record operation body
// (op.JobRecord): terminal states only, signed with Ed25519 by the node
// that ran the job. Expired jobs never ran anywhere and are not
// replicated; "completed" travels as op.JobSucceeded.

func opStatus(s Status) (op.JobStatus, bool) {
	switch s {
	case Completed:
		return op.JobSucceeded, true
	case Failed:
		return op.JobFailed, true
	case Cancelled:
		return op.JobCancelled, true
	case TimedOut:
		return op.JobTimedOut, true
	}
	return "", false
}

func fromOpStatus(s op.JobStatus) (Status, bool) {
	switch s {
	case op.JobSucceeded:
		return Completed, true
	case op.JobFailed:
		return Failed, true
	case op.JobCancelled:
		return Cancelled, true
	case op.JobTimedOut:
		return TimedOut, true
	}
	return 0, false
}

// Record returns the signed terminal record of job j: built and signed
// here for a job this node ran, the peer's own for an imported one.
func (s *Service) Record(j id.Job) (*op.JobRecord, error) {
	cur, err := s.Get(j)
	if err != nil {
		return nil, err
	}
	return s.signedRecord(cur)
}

func (s *Service) signedRecord(j *Job) (*op.JobRecord, error) {
	st, ok := opStatus(j.Status)
	if !ok {
		return nil, fmt.Errorf("job %s is %s: %w", j.ID, j.Status, ErrNotReplicable)
	}
	if j.Imported {
		v, closer, err := s.db.Get(signedKey(j.ID))
		if err != nil {
			return nil, fmt.Errorf("job %s signed record: %w", j.ID, err)
		}
		defer closer.Close()
		var rec op.JobRecord
		if err := codec.Unmarshal(v, &rec); err != nil {
			return nil, fmt.Errorf("job %s signed record: %w: %v", j.ID, ErrCorrupt, err)
		}
		return &rec, nil
	}
	rec := &op.JobRecord{
		Job: j.ID, Program: j.Program, RequestID: j.RequestID, Status: st,
		Receipt: j.Receipt, Fuel: j.FuelConsumed, Error: j.Error,
		CreatedAt: j.CreatedAt, StartedAt: j.StartedAt, FinishedAt: j.CompletedAt, Executor: s.node,
	}
	if j.HasOutput {
		rec.Output = j.Output
	}
	if err := rec.Sign(s.opts.Key); err != nil {
		return nil, err
	}
	return rec, nil
}

// stageTerminal stages what every terminal transition of j commits
// besides its record: the lane's totals and, with an outbox, the signed
// record's operation, so that the record is published exactly when the
// terminal state is durable.
func (s *Service) stageTerminal(b *pebble.Batch, l *lane, j *Job) (undo func(), err error) {
	if s.opts.Outbox != nil && !j.Imported {
		if _, ok := opStatus(j.Status); ok {
			rec, err := s.signedRecord(j)
			if err != nil {
				return nil, err
			}
			if err := s.opts.Outbox.StageJobRecord(b, rec); err != nil {
				return nil, err
			}
		}
	}
	return l.stage(b, j)
}

// Import stores a peer's terminal job record so that this node answers
// job-status for it. The record must verify — terminal status, job id =
// BLAKE3(program ‖ request id), the executor's Ed25519 signature — and is
// only ever stored, never executed: there is no path from a replicated
// record to the queue. A job this node already knows (its own submission,
// running or finished, or an earlier import) is left as it is; created
// reports whether the record was stored.
func (s *Service) Import(ctx context.Context, rec *op.JobRecord) (created bool, err error) {
	if err := rec.Verify(); err != nil {
		return false, fmt.Errorf("import job record: %w", err)
	}
	st, ok := fromOpStatus(rec.Status)
	if !ok {
		return false, fmt.Errorf("import job record %s: %w: status %q", rec.Job, ErrInvalid, rec.Status)
	}
	signed, err := codec.Marshal(rec)
	if err != nil {
		return false, err
	}
	unlock := s.locks.lock(rec.Job)
	defer unlock()
	if _, known, err := load(s.db, rec.Job); err != nil || known {
		return false, err
	}
	j := Job{
		ID: rec.Job, RequestID: rec.RequestID, Program: rec.Program, Status: st,
		CreatedAt: rec.CreatedAt, StartedAt: rec.StartedAt, CompletedAt: rec.FinishedAt,
		FuelConsumed: rec.Fuel, Error: rec.Error, Receipt: rec.Receipt,
		HasOutput: st == Completed, Output: rec.Output, Executor: rec.Executor, Imported: true,
	}
	if st == Failed || st == TimedOut {
		j.Reason = ReasonExecutionError
		if st == TimedOut {
			j.Reason = ReasonTimeout
		}
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := appendLogs(b, &j, s.opts.MaxLogBytes, note(s.now(), 0, LevelInfo, "terminal record imported from executor %s", rec.Executor)); err != nil {
		return false, err
	}
	if err := stage(b, nil, &j); err != nil {
		return false, err
	}
	if err := b.Set(signedKey(j.ID), signed, nil); err != nil {
		return false, err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return false, fmt.Errorf("import job record %s: %w", j.ID, err)
	}
	s.watch.notify(j.ID)
	return true, nil
}
