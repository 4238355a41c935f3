package job

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/kv"
)

// The copier puts jobs' small inputs and their outputs into the blob store
// in the background. Both are durable before it runs — a small input
// inline under j/i/ in the submission's batch, an output in its
// transition's record — so a job never waits for the blob store, whose
// per-blob cost (a file, three fsyncs) would otherwise bound job
// throughput at half its small-blob rate, and whose fsyncs slow every
// commit of the database on the same disk (see docs/rationale/jobs.md).
//
// Copies are low-priority work: they run while no job is pending or
// running, or — so that the backlog stays bounded — one at a time once
// more than maxCopyBacklog wait. The queue is j/w/<seq><kind><job>,
// written in the same batch as what it copies, so a crash loses no copy;
// the copier resumes at start.

// Kinds of copy.
const (
	copyInput  byte = 'i'
	copyOutput byte = 'o'
)

// Copier limits.
const (
	copyBatch       = 64   // queue keys taken per look
	copyConcurrency = 2    // Puts in flight while the scheduler is idle
	maxCopyBacklog  = 8192 // beyond this, copies run (one at a time) even while jobs run
)

// stageCopy stages a copy of job j's input or output in b and returns its
// queue time, to report with copyQueued once b is committed.
func (s *Service) stageCopy(b *pebble.Batch, kind byte, j id.Job) (int64, error) {
	seq := s.copySeq()
	return seq, b.Set(copyKey(seq, kind, j), nil, nil)
}

// copySeq returns increasing queue times (nanoseconds, unique).
func (s *Service) copySeq() int64 {
	for {
		prev := s.lastCopySeq.Load()
		next := max(prev+1, time.Now().UnixNano())
		if s.lastCopySeq.CompareAndSwap(prev, next) {
			return next
		}
	}
}

// copyQueued tells the copier a copy was committed.
func (s *Service) copyQueued(seq int64) {
	s.copyFloor.report(seq)
	s.copyBacklog.Add(1)
	s.kickCopier()
}

func (s *Service) kickCopier() {
	select {
	case s.copyWake <- struct{}{}:
	default:
	}
}

// copyConcurrencyNow is how many copies may run now: copyConcurrency while
// no job is pending or running, 1 when the backlog is too long, else 0.
func (s *Service) copyConcurrencyNow() int {
	switch {
	case s.pending.Load() == 0 && s.runningCount() == 0:
		return copyConcurrency
	case s.copyBacklog.Load() > maxCopyBacklog:
		return 1
	}
	return 0
}

// copyLoop runs the copies until shutdown.
func (s *Service) copyLoop() {
	for {
		var n int
		var err error
		if k := s.copyConcurrencyNow(); k > 0 {
			n, err = s.copyOnce(k)
		}
		if err == nil && n > 0 {
			continue
		}
		wait := time.Hour // until woken
		if err != nil {
			s.log.Warn("copy job payloads to the blob store", "err", err)
			wait = time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-s.copyWake:
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return
		}
		t.Stop()
	}
}

// copyOnce copies up to copyBatch queued payloads and removes their keys;
// it returns how many it removed.
func (s *Service) copyOnce(concurrency int) (int, error) {
	floor := s.copyFloor.snapshot()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: copyKey(floor, 0, id.Job{}), UpperBound: kv.PrefixEnd([]byte(nsCopy))})
	if err != nil {
		return 0, err
	}
	var keys [][]byte
	for it.First(); it.Valid() && len(keys) < copyBatch && (concurrency > 1 || len(keys) < 1); it.Next() {
		keys = append(keys, bytes.Clone(it.Key()))
	}
	if err := errorsJoin(it.Error(), it.Close()); err != nil || len(keys) == 0 {
		return 0, err
	}
	errs := make([]error, len(keys))
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i, k := range keys {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			_, kind, j, ok := splitCopyKey(k)
			if ok {
				errs[i] = s.copyPayload(s.ctx, kind, j)
			}
		})
	}
	wg.Wait()
	b := s.db.NewBatch()
	defer b.Close()
	var firstErr error
	var through int64 // the floor may rise to the last key before the first failure
	done := 0
	for i, k := range keys {
		if errs[i] != nil {
			if firstErr == nil {
				firstErr = errs[i]
			}
			continue
		}
		if err := b.Delete(k, nil); err != nil {
			return 0, err
		}
		done++
		if firstErr == nil {
			through, _, _, _ = splitCopyKey(k)
		}
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return 0, err
	}
	if through > 0 {
		s.copyFloor.raise(through)
	}
	s.stats.copies.Add(int64(done))
	s.copyBacklog.Add(-int64(done))
	return done, firstErr
}

// copyPayload puts one input or output into the blob store. A source that
// no longer exists (nothing to copy) is done.
func (s *Service) copyPayload(ctx context.Context, kind byte, j id.Job) error {
	var data []byte
	switch kind {
	case copyInput:
		in, ok, err := getValue(s.db, inputKey(j))
		if err != nil || !ok {
			return err
		}
		data = in
	case copyOutput:
		cur, ok, err := load(s.db, j)
		if err != nil || !ok || !cur.HasOutput || cur.Imported {
			return err
		}
		rec, err := s.exec.Receipt(cur.Receipt)
		if errors.Is(err, chain.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if !rec.HasOutput || id.BlobOf(rec.Output) != cur.Output {
			return nil
		}
		data = rec.Output
	default:
		return nil
	}
	if _, _, err := s.blobs.Put(ctx, bytes.NewReader(data), "application/octet-stream"); err != nil {
		return fmt.Errorf("copy %c of job %s: %w", kind, j, err)
	}
	return nil
}
