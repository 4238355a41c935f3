package replica

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
)

// jobHandler applies job_record: a peer's verified terminal record is
// imported (never executed) so that this node answers job-status for it.
type jobHandler struct{ r *Replica }

func (h jobHandler) Apply(ctx context.Context, o dag.Op, v *dag.Vertex) error {
	r := h.r
	rec, err := op.DecodeJobRecord(o)
	if err != nil {
		return fmt.Errorf("%w: %w", dag.ErrInvalidOp, err) // validated before acceptance: cannot happen
	}
	if v.Author == r.self {
		return nil // this node's own record: the job service has it
	}
	if r.net != nil && !id.Hash(rec.Output).IsZero() {
		r.net.Providers().AddNode(id.Hash(rec.Output), rec.Executor) // it stores the output
	}
	r.jobsMu.RLock()
	jobs := r.jobs
	r.jobsMu.RUnlock()
	if jobs == nil {
		if err := r.db.Set(key(pfxJob, rec.Job[:]), o.Body, pebble.NoSync); err != nil {
			return fmt.Errorf("keep job record %s: %w", rec.Job, err)
		}
		r.m.jobs.WithLabelValues("waiting").Inc()
		return nil
	}
	return r.importJob(ctx, jobs, rec)
}

func (r *Replica) importJob(ctx context.Context, jobs JobService, rec *op.JobRecord) error {
	created, err := jobs.Import(ctx, rec)
	if err != nil {
		return fmt.Errorf("import job record %s: %w", rec.Job, err)
	}
	if created {
		r.m.jobs.WithLabelValues("imported").Inc()
	} else {
		r.m.jobs.WithLabelValues("known").Inc()
	}
	return nil
}

// importWaitingJobs imports the records that replicated before the job
// service was set.
func (r *Replica) importWaitingJobs(ctx context.Context) error {
	r.jobsMu.RLock()
	jobs := r.jobs
	r.jobsMu.RUnlock()
	if jobs == nil {
		return nil
	}
	return scan(r.db, []byte(pfxJob), func(k, v []byte) (bool, error) {
		rec, err := op.DecodeJobRecord(dag.Op{Kind: op.KindJobRecord, Body: v})
		if err == nil {
			if err := r.importJob(ctx, jobs, rec); err != nil {
				return false, err
			}
		}
		return true, r.db.Delete(k, pebble.NoSync)
	})
}
