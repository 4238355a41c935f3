package job

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/kv"
)

// Get returns job j, or ErrNotFound.
func (s *Service) Get(j id.Job) (*Job, error) {
	cur, ok, err := load(s.db, j)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("job %s: %w", j, ErrNotFound)
	}
	return cur, nil
}

// Wait returns job j once until(job) holds, or when ctx ends or the
// service closes, whichever is first (the job as it then is). It wakes on
// the job's changes; it never polls.
func (s *Service) Wait(ctx context.Context, j id.Job, until func(*Job) bool) (*Job, error) {
	for {
		ch, done := s.watch.add(j)
		cur, err := s.Get(j)
		if err != nil || until(cur) || ch == nil {
			done()
			return cur, err
		}
		select {
		case <-ch:
			done()
		case <-ctx.Done():
			done()
			return cur, nil
		case <-s.ctx.Done():
			done()
			return cur, nil
		}
	}
}

// Logs returns job j's log: lifecycle entries and what the guest logged,
// in order, bounded by jobs.max_log_bytes.
func (s *Service) Logs(j id.Job) ([]LogEntry, error) {
	if _, err := s.Get(j); err != nil {
		return nil, err
	}
	return readLogs(s.db, j)
}

// Output returns the output of completed job j (and the job). A job that
// is not completed is ErrNotCompleted. The output blob holds it once the
// copier stored it; until then it comes from the transition's record,
// where it is durable from the commit. A peer's record whose output blob
// has not reached this node is blob.ErrNotFound.
func (s *Service) Output(ctx context.Context, j id.Job) ([]byte, *Job, error) {
	cur, err := s.Get(j)
	if err != nil {
		return nil, nil, err
	}
	if cur.Status != Completed {
		return nil, cur, fmt.Errorf("job %s is %s: %w", j, cur.Status, ErrNotCompleted)
	}
	if !cur.HasOutput {
		return []byte{}, cur, nil
	}
	out, err := s.readBlob(ctx, cur.Output)
	if err == nil || !(errors.Is(err, blob.ErrNotFound) || errors.Is(err, blob.ErrIncomplete)) || cur.Imported {
		return out, cur, err
	}
	rec, rerr := s.exec.Receipt(cur.Receipt)
	if rerr != nil || !rec.HasOutput || id.BlobOf(rec.Output) != cur.Output {
		return nil, cur, err
	}
	return rec.Output, cur, nil
}

func (s *Service) readBlob(ctx context.Context, b id.Blob) ([]byte, error) {
	r, err := s.blobs.Open(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("output %s: %w", b, err)
	}
	defer r.Close()
	if r.Size() > s.opts.MaxOutput {
		return nil, fmt.Errorf("output %s: %d bytes, more than jobs.max_output", b, r.Size())
	}
	buf := make([]byte, r.Size())
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("output %s: %w", b, err)
	}
	return buf, nil
}

// ListQuery selects a page of jobs in creation order.
type ListQuery struct {
	Status  Status      // 0: any
	Program *id.Program // nil: any
	Cursor  string      // a previous page's Next; "" for the first page
	Limit   int         // 1..1000; 0 = 100
}

// Page is one page of List. Next is empty on the last page.
type Page struct {
	Jobs []*Job
	Next string
}

// listScanBudget bounds the index keys one List call visits when it has
// to filter (program and status together): a sparse match returns a
// short page with a cursor rather than scanning on.
const listScanBudget = 10_000

// List returns jobs in creation order, filtered by status and program,
// through the status or program index (never a scan of all records).
func (s *Service) List(q ListQuery) (*Page, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	if q.Limit > 1000 || (q.Status != 0 && !q.Status.Valid()) {
		return nil, fmt.Errorf("%w: limit 1..1000 and a known status", ErrInvalid)
	}
	var prefix []byte
	filterStatus := false
	switch {
	case q.Program != nil:
		prefix = append([]byte(nsProgram), q.Program[:]...)
		filterStatus = q.Status != 0
	case q.Status != 0:
		prefix = []byte(nsStatus + string([]byte{byte(q.Status)}))
	default:
		prefix = []byte(nsCreated)
	}
	lower := prefix
	var after []byte
	if q.Cursor != "" {
		c, err := hex.DecodeString(q.Cursor)
		if err != nil || len(c) != 40 {
			return nil, fmt.Errorf("%w: cursor", ErrInvalid)
		}
		after = append(append([]byte(nil), prefix...), c...)
		lower = after
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: kv.PrefixEnd(prefix)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	page := &Page{Jobs: []*Job{}}
	scanned := 0
	var last []byte
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if after != nil && bytes.Equal(k, after) {
			continue
		}
		if len(page.Jobs) == q.Limit || scanned == listScanBudget {
			page.Next = hex.EncodeToString(last[len(prefix):])
			return page, nil
		}
		scanned++
		last = append(last[:0], k...)
		_, j, ok := splitTimeKey(k)
		if !ok {
			continue
		}
		cur, found, err := load(s.db, j)
		if err != nil {
			return nil, err
		}
		if !found || (filterStatus && cur.Status != q.Status) {
			continue
		}
		page.Jobs = append(page.Jobs, cur)
	}
	return page, it.Error()
}
