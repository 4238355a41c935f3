package node

import (
	"context"

	"github.com/onvm-network/onvm/internal/job"
)

// openJobs opens the job service over the replicating views: a job's
// execution is forwarded to the program's committee leader like /execute,
// its input blob is fetched from peers when it is not here, its output
// blob and its terminal record are published, and peers' terminal records
// are imported (the replica's job_record handler). It closes before the
// replica: its workers call into it.
func (n *Node) openJobs(ctx context.Context) (err error) {
	n.jobs, err = job.Open(ctx, job.Options{
		DB: n.db, Exec: n.replica.Programs(), Blobs: n.replica.Blobs(), Key: n.keys.Ed25519,
		Workers:     n.opts.Config.Jobs.MaxConcurrent,
		MaxPending:  n.opts.Config.Jobs.MaxPending,
		Backoff:     job.Backoff{Base: n.opts.Config.Jobs.RetryBase, Max: n.opts.Config.Jobs.RetryMax},
		MaxOutput:   n.opts.Config.Jobs.MaxOutput,
		MaxLogBytes: n.opts.Config.Jobs.MaxLogBytes,
		Outbox:      n.out,
		Registerer:  n.reg,
		Logger:      n.log.With("component", "job"),
	})
	if err != nil {
		return err
	}
	n.closers = append(n.closers, n.jobs.Close)
	n.replica.SetJobs(n.jobs)
	return nil
}

// Jobs returns the job service.
func (n *Node) Jobs() *job.Service { return n.jobs }
