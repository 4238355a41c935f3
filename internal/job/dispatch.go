package job

import (
	"context"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/kv"
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

// dispatch hands due jobs to idle workers. A job starts only with a
// guest slot (max_concurrent): the dispatcher waits for an idle worker and
// a free slot, takes every other idle worker and free slot there is, and
// claims that many due jobs in one batch (one commit, whatever the count).
// When none is due it sleeps until a producer wakes it (submit, retry,
// requeue) or until the earliest future key is due — no polling, no scan
// of the jobs.
func (s *Service) dispatch() {
	var idle []*worker
	for {
		if len(idle) == 0 {
			select {
			case w := <-s.idle:
				idle = append(idle, w)
			case <-s.ctx.Done():
				return
			}
		}
	gather:
		for len(idle) < maxClaim {
			select {
			case w := <-s.idle:
				idle = append(idle, w)
			default:
				break gather
			}
		}
		select {
		case s.guests <- struct{}{}:
		case <-s.ctx.Done():
			return
		}
		slots := 1
	more:
		for slots < len(idle) {
			select {
			case s.guests <- struct{}{}:
				slots++
			default:
				break more
			}
		}
		cs, wait, err := s.claim(slots)
		if err != nil {
			s.log.Error("job queue", "err", err)
			wait = time.Second // a storage error: do not spin
		}
		for range slots - len(cs) {
			<-s.guests
		}
		for _, c := range cs {
			idle[0].jobs <- c
			idle = idle[1:]
		}
		if len(cs) > 0 {
			continue
		}
		if !s.sleep(wait) {
			return
		}
	}
}

// maxClaim bounds the jobs one claim batch starts.
const maxClaim = 64

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

// claim starts up to n due jobs of the queue in one batch, expiring the
// ones whose ttl ran out on the way. With no due job it returns how long
// until the earliest queued one is due (0: the queue is empty).
func (s *Service) claim(n int) ([]*claimed, time.Duration, error) {
	if s.ctx.Err() != nil {
		return nil, 0, nil
	}
	now := s.now()
	floor := s.queueFloor.snapshot()
	it, err := s.db.NewIter(&pebble.IterOptions{
		LowerBound: queueKey(floor, id.Job{}),
		UpperBound: kv.PrefixEnd([]byte(nsQueue)),
	})
	if err != nil {
		return nil, 0, err
	}
	b := s.db.NewBatch()
	defer b.Close()
	var starts []*start
	defer func() {
		for _, st := range starts {
			st.unlock()
		}
	}()
	var wait time.Duration
	var last int64
	for it.First(); it.Valid() && len(starts) < n; it.Next() {
		s.stats.scanned.Add(1)
		t, j, ok := splitTimeKey(it.Key())
		if !ok {
			continue
		}
		if t > now {
			wait = time.Duration(t-now) * time.Millisecond
			break
		}
		st, err := s.stageStart(b, j, t, now)
		if err != nil {
			return nil, 0, errorsJoin(err, it.Close())
		}
		last = t
		if st != nil {
			starts = append(starts, st)
		}
	}
	if err := errorsJoin(it.Error(), it.Close()); err != nil {
		return nil, 0, err
	}
	if !b.Empty() {
		// Not synced: "running" becomes durable with the next synced
		// commit. A crash before that leaves the jobs pending, which is
		// what recovery would make of them anyway.
		if err := b.Commit(pebble.NoSync); err != nil {
			return nil, 0, err
		}
	}
	if last > 0 {
		s.queueFloor.raise(last)
	}
	out := make([]*claimed, len(starts))
	for i, st := range starts {
		out[i] = s.started(st, now)
	}
	return out, wait, nil
}

// start is a claim staged in the dispatcher's batch; the job's lock is
// held until the batch is committed.
type start struct {
	cur, next *Job
	unlock    func()
}

// stageStart stages the start of job j, whose queue key is at t, into b —
// or expires it (its own commit) when its ttl ran out. It returns nil when
// the job does not start.
func (s *Service) stageStart(b *pebble.Batch, j id.Job, t, now int64) (*start, error) {
	unlock := s.locks.lock(j)
	cur, ok, err := load(s.db, j)
	if err != nil {
		unlock()
		return nil, err
	}
	if !ok || cur.Status != Pending || cur.QueueAt != t {
		// Every transition removes its job's key in the same batch, so
		// this cannot happen; do not let it block the queue.
		unlock()
		s.log.Warn("stale job queue entry removed", "job", j)
		return nil, b.Delete(queueKey(t, j), nil)
	}
	if cur.expired(now) {
		defer unlock()
		return nil, s.expire(cur, now)
	}
	next, err := Apply(*cur, Event{Kind: EvStart, At: now})
	if err == nil {
		err = appendLogs(b, &next, s.opts.MaxLogBytes, note(now, next.Attempts, LevelInfo, "attempt %d started", next.Attempts))
	}
	if err == nil {
		err = stage(b, cur, &next)
	}
	if err != nil {
		unlock()
		return nil, err
	}
	return &start{cur: cur, next: &next, unlock: unlock}, nil
}

// started registers a committed start: the attempt's context, for cancel.
func (s *Service) started(st *start, now int64) *claimed {
	j := st.next
	s.pending.Add(-1)
	s.stats.claims.Add(1)
	s.metrics.transition(Pending, Running)
	s.metrics.wait.Observe(float64(max(now-st.cur.runAt(), 0)) / 1e3)
	ctx, cancel := context.WithCancelCause(s.ctx)
	s.runMu.Lock()
	s.running[j.ID] = &attempt{n: j.Attempts, cancel: cancel}
	s.runMu.Unlock()
	s.watch.notify(j.ID)
	return &claimed{job: j, ctx: ctx, cancel: cancel}
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
			s.attempt(w, c)
		case <-s.ctx.Done():
			// A claim may have raced with shutdown: it is requeued.
			select {
			case c := <-w.jobs:
				s.attempt(w, c)
			default:
			}
			return
		}
	}
}
