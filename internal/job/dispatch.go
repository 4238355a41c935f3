package job

import (
	"context"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/id"
)

// worker is one slot of the pool. Its lane holds the totals of the jobs it
// finishes.
type worker struct {
	n    int
	jobs chan *claimed // capacity 1: the dispatcher never blocks on it
	lane *lane
}

// claimed is a job the dispatcher moved to running, with the context that
// stops its attempt.
type claimed struct {
	job    *Job // the running record
	ctx    context.Context
	cancel context.CancelCauseFunc
}

// dispatch hands due jobs to idle workers. It waits for an idle worker,
// then takes the first due key of the queue; when none is due it sleeps
// until a producer wakes it (submit, retry, requeue) or until the earliest
// future key is due — no polling, no scan of the jobs.
func (s *Service) dispatch() {
	for {
		var w *worker
		select {
		case w = <-s.idle:
		case <-s.ctx.Done():
			return
		}
		for {
			c, wait, err := s.claim()
			if err != nil {
				s.log.Error("job queue", "err", err)
				wait = time.Second // a storage error: do not spin
			}
			if c != nil {
				w.jobs <- c
				break
			}
			if !s.sleep(wait) {
				return
			}
		}
	}
}

// sleep waits for a wake-up, for d when positive, or for shutdown (false).
func (s *Service) sleep(d time.Duration) bool {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-s.wake:
	case <-timeout:
	case <-s.ctx.Done():
		return false
	}
	return true
}

// claim starts the first due job of the queue, expiring the ones whose
// ttl ran out on the way. With no due job it returns how long until the
// earliest queued one is due (0: the queue is empty).
func (s *Service) claim() (*claimed, time.Duration, error) {
	if s.ctx.Err() != nil {
		return nil, 0, nil
	}
	now := s.now()
	floor := s.floorSnapshot()
	it, err := s.db.NewIter(&pebble.IterOptions{
		LowerBound: queueKey(floor, id.Job{}),
		UpperBound: prefixEnd([]byte(nsQueue)),
	})
	if err != nil {
		return nil, 0, err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		s.stats.scanned.Add(1)
		t, j, ok := splitTimeKey(it.Key())
		if !ok {
			continue
		}
		if t > now {
			return nil, time.Duration(t-now) * time.Millisecond, nil
		}
		c, err := s.start(j, t, now)
		if err != nil {
			return nil, 0, err
		}
		s.raiseFloor(t)
		if c != nil {
			return c, 0, nil
		}
	}
	return nil, 0, it.Error()
}

// start moves job j, whose queue key is at t, to running — or to expired
// when its ttl ran out — under the job's lock. It returns nil when the job
// did not start.
func (s *Service) start(j id.Job, t, now int64) (*claimed, error) {
	unlock := s.locks.lock(j)
	defer unlock()
	cur, ok, err := load(s.db, j)
	if err != nil {
		return nil, err
	}
	if !ok || cur.Status != Pending || cur.QueueAt != t {
		// Every transition removes its job's key in the same batch, so
		// this cannot happen; do not let it block the queue.
		s.log.Warn("stale job queue entry removed", "job", j)
		return nil, s.db.Delete(queueKey(t, j), pebble.NoSync)
	}
	if cur.expired(now) {
		return nil, s.expire(cur, now)
	}
	next, err := Apply(*cur, Event{Kind: EvStart, At: now})
	if err != nil {
		return nil, err
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := appendLogs(b, &next, s.opts.MaxLogBytes, note(now, next.Attempts, LevelInfo, "attempt %d started", next.Attempts)); err != nil {
		return nil, err
	}
	if err := stage(b, cur, &next); err != nil {
		return nil, err
	}
	// Not synced: "running" becomes durable with the next synced commit. A
	// crash before that leaves the job pending, which is what recovery
	// would make of it anyway.
	if err := b.Commit(pebble.NoSync); err != nil {
		return nil, err
	}
	s.pending.Add(-1)
	s.stats.claims.Add(1)
	s.metrics.transition(Pending, Running)
	s.metrics.wait.Observe(float64(max(now-cur.runAt(), 0)) / 1e3)
	ctx, cancel := context.WithCancelCause(s.ctx)
	s.runMu.Lock()
	s.running[j] = &attempt{n: next.Attempts, cancel: cancel}
	s.runMu.Unlock()
	s.watch.notify(j)
	return &claimed{job: &next, ctx: ctx, cancel: cancel}, nil
}

// expire marks pending job cur expired; its lock is held.
func (s *Service) expire(cur *Job, now int64) error {
	next, err := Apply(*cur, Event{Kind: EvExpire, At: now})
	if err != nil {
		return err
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := appendLogs(b, &next, s.opts.MaxLogBytes, note(now, next.Attempts, LevelWarn, "%s", next.Error)); err != nil {
		return err
	}
	if err := stage(b, cur, &next); err != nil {
		return err
	}
	undo, err := s.stageTerminal(b, s.dispatchLane, &next)
	if err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		undo()
		return err
	}
	s.pending.Add(-1)
	s.metrics.transition(Pending, Expired)
	s.watch.notify(cur.ID)
	return nil
}

// work runs the jobs the dispatcher hands this worker.
func (s *Service) work(w *worker) {
	for {
		select {
		case s.idle <- w:
		case <-s.ctx.Done():
			return
		}
		select {
		case c := <-w.jobs:
			s.run(w, c)
		case <-s.ctx.Done():
			// A claim may have raced with shutdown: it is requeued.
			select {
			case c := <-w.jobs:
				s.run(w, c)
			default:
			}
			return
		}
	}
}
