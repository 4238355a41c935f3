package job

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/kv"
	"github.com/onvm-network/onvm/internal/program"
)

// Executor is what the scheduler needs of internal/chain (its *Engine).
type Executor interface {
	Execute(ctx context.Context, req chain.Request) (*chain.Outcome, error)
	Manifest(p id.Program) (*program.Manifest, error)
	Receipt(rid id.Hash) (*chain.Record, error)
	Limits() chain.Limits
}

// BlobStore is what jobs need of internal/blob: inputs and outputs are
// blobs.
type BlobStore interface {
	Put(ctx context.Context, r io.Reader, mime string) (blob.Info, bool, error)
	Open(ctx context.Context, b id.Blob) (*blob.Reader, error)
}

// Outbox takes the signed terminal record of every job this node ran or
// cancelled, staged in the batch that commits the terminal state, so that
// the record is published exactly when the state is durable, crash or not
// (the replication layer stages the DAG's job_record operation;
// replica.Outgoing). An error fails the commit.
type Outbox interface {
	StageJobRecord(b *pebble.Batch, rec *op.JobRecord) error
}

// attemptsPerGuest is how many attempts may be in flight per guest slot:
// an attempt spends most of its time waiting for commits and syncs, which
// overlap (pebble syncs concurrent commits together) only if there are
// several.
const attemptsPerGuest = 4

// Defaults of Options.
const (
	DefaultMaxPending = 100_000
	DefaultMaxRetries = 3
	MaxRetriesLimit   = 100
	DefaultMaxOutput  = 1 << 20
	DefaultInlineMax  = 64 << 10
)

// Options configure a Service. DB, Exec, Blobs and Key are required.
type Options struct {
	DB    *pebble.DB // the node database; the service owns the "j/" keys
	Exec  Executor
	Blobs BlobStore
	Key   ed25519.PrivateKey // signs terminal records (the node identity)

	Workers     int     // guests run at once; 0 = one per CPU (GOMAXPROCS); attempts in flight: 4 per guest slot
	MaxPending  int     // pending jobs before submissions get ErrQueueFull; 0 = DefaultMaxPending
	Backoff     Backoff // retry delays; zero = 1s doubling to 5 min
	MaxOutput   int64   // output bytes a job may produce; 0 = DefaultMaxOutput (1 MiB)
	MaxLogBytes int64   // log bytes kept per job; 0 = DefaultMaxLogBytes (64 KiB)
	// InlineMax is the largest inline input kept with the job (j/i/, in
	// the submission's batch) and copied into the blob store in the
	// background; larger ones are stored as blobs before the submission
	// commits. 0 = DefaultInlineMax (64 KiB).
	InlineMax int

	Outbox     Outbox                // nil: records are not published
	Registerer prometheus.Registerer // nil: metrics are not registered
	Now        func() time.Time      // nil: time.Now
	Rand       func() float64        // backoff jitter in [0,1); nil: math/rand/v2
	Logger     *slog.Logger
}

// Service is the job system of one node. It is safe for concurrent use.
type Service struct {
	opts    Options
	db      *pebble.DB
	exec    Executor
	blobs   BlobStore
	log     *slog.Logger
	node    id.Node
	workers int
	limits  chain.Limits

	locks   jobLocks
	watch   watchers
	pending atomic.Int64 // jobs in state pending

	runMu   sync.Mutex
	running map[id.Job]*attempt

	wake   chan struct{} // a job became due: the dispatcher looks again
	idle   chan *worker  // workers waiting for a job
	guests chan struct{} // guest slots: max_concurrent guests run at once

	queueFloor floor // where the dispatcher starts looking in j/q/

	copyFloor   floor         // where the copier starts looking in j/w/
	copyWake    chan struct{} // a copy was queued, or the scheduler fell idle
	lastCopySeq atomic.Int64
	copyBacklog atomic.Int64 // copies waiting (counted at start, then kept)

	apiLane      *lane   // cancels
	dispatchLane *lane   // expiries
	staticLanes  []*lane // stored lanes no current goroutine writes
	workerLanes  []*lane
	pool         []*worker
	durations    durations
	metrics      *promMetrics

	stats struct {
		scanned atomic.Int64 // queue keys the dispatcher visited
		claims  atomic.Int64
		copies  atomic.Int64 // payloads copied into the blob store
	}

	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup
	closed atomic.Bool
}

// attempt is a running attempt, for cancel.
type attempt struct {
	n      uint32
	cancel context.CancelCauseFunc
}

// Open recovers the job store — jobs left running by a crash go back to
// pending, due at once — and starts the dispatcher and the workers.
func Open(ctx context.Context, opts Options) (*Service, error) {
	if opts.DB == nil || opts.Exec == nil || opts.Blobs == nil || len(opts.Key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("job: %w: missing a required option", ErrInvalid)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.MaxPending <= 0 {
		opts.MaxPending = DefaultMaxPending
	}
	if opts.MaxOutput <= 0 {
		opts.MaxOutput = DefaultMaxOutput
	}
	if opts.MaxLogBytes <= 0 {
		opts.MaxLogBytes = DefaultMaxLogBytes
	}
	if opts.InlineMax <= 0 {
		opts.InlineMax = DefaultInlineMax
	}
	opts.Backoff = opts.Backoff.withDefaults()
	s := &Service{
		opts: opts, db: opts.DB, exec: opts.Exec, blobs: opts.Blobs, log: opts.Logger,
		node:    id.Node(opts.Key.Public().(ed25519.PublicKey)),
		workers: opts.Workers, limits: opts.Exec.Limits(),
		running:  map[id.Job]*attempt{},
		wake:     make(chan struct{}, 1),
		copyWake: make(chan struct{}, 1),
		idle:     make(chan *worker),
		guests:   make(chan struct{}, opts.Workers),
	}
	if err := s.loadTotals(); err != nil {
		return nil, err
	}
	if err := s.recover(); err != nil {
		return nil, err
	}
	s.metrics = newPromMetrics(opts.Registerer, s)
	s.ctx, s.cancel = context.WithCancelCause(context.WithoutCancel(ctx))
	for i := range s.workers * attemptsPerGuest {
		w := &worker{n: i, jobs: make(chan *claimed, 1), lane: s.workerLanes[i]}
		s.pool = append(s.pool, w)
		s.wg.Go(func() { s.work(w) })
	}
	s.wg.Go(s.dispatch)
	s.wg.Go(s.copyLoop)
	return s, nil
}

// Close stops the scheduler: running guests are stopped and their jobs go
// back to pending (due at once, no retry counted) to run again after the
// next start. It waits for the workers and does not close the database.
// Close is idempotent.
func (s *Service) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.cancel(errShutdown)
	s.wg.Wait()
	for _, w := range s.pool { // a claim that raced with shutdown is requeued
		select {
		case c := <-w.jobs:
			s.attempt(w, c)
		default:
		}
	}
	return s.db.Set([]byte(durationsKey), s.durations.encode(), pebble.Sync)
}

// loadTotals reads every stored lane; lanes of workers beyond the current
// pool still count.
func (s *Service) loadTotals() error {
	var err error
	if s.apiLane, err = loadLane(s.db, "api"); err != nil {
		return err
	}
	if s.dispatchLane, err = loadLane(s.db, "dispatch"); err != nil {
		return err
	}
	s.workerLanes = make([]*lane, s.workers*attemptsPerGuest)
	for i := range s.workerLanes {
		if s.workerLanes[i], err = loadLane(s.db, "w"+strconv.Itoa(i)); err != nil {
			return err
		}
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte(nsMetrics + "w"), UpperBound: kv.PrefixEnd([]byte(nsMetrics + "w"))})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		n, err := strconv.Atoi(string(it.Key()[len(nsMetrics)+1:]))
		if err != nil || n < len(s.workerLanes) {
			continue
		}
		l, err := loadLane(s.db, "w"+strconv.Itoa(n))
		if err != nil {
			return err
		}
		s.staticLanes = append(s.staticLanes, l)
	}
	if err := it.Error(); err != nil {
		return err
	}
	return s.durations.load(s.db)
}

// recover requeues the jobs a crash left running (found through the
// status index: no scan of all jobs) and counts the pending ones.
func (s *Service) recover() error {
	now := s.now()
	lo := []byte(nsStatus + string([]byte{byte(Running)}))
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: kv.PrefixEnd(lo)})
	if err != nil {
		return err
	}
	var ids []id.Job
	for it.First(); it.Valid(); it.Next() {
		if _, j, ok := splitTimeKey(it.Key()); ok {
			ids = append(ids, j)
		}
	}
	if err := errorsJoin(it.Error(), it.Close()); err != nil {
		return err
	}
	b := s.db.NewBatch()
	defer b.Close()
	for _, j := range ids {
		cur, ok, err := load(s.db, j)
		if err != nil || !ok {
			return fmt.Errorf("recover job %s: %v", j, err)
		}
		next, err := Apply(*cur, Event{Kind: EvRequeue, At: now})
		if err != nil {
			return err
		}
		next.QueueAt = now
		if err := appendLogs(b, &next, s.opts.MaxLogBytes,
			note(now, cur.Attempts, LevelWarn, "node restarted during attempt %d: requeued", cur.Attempts)); err != nil {
			return err
		}
		if err := stage(b, cur, &next); err != nil {
			return err
		}
	}
	if len(ids) > 0 {
		if err := b.Commit(pebble.Sync); err != nil {
			return fmt.Errorf("recover jobs: %w", err)
		}
		s.log.Info("requeued jobs interrupted by a restart", "jobs", len(ids))
	}
	n, err := countPrefix(s.db, []byte(nsQueue))
	if err != nil {
		return err
	}
	s.pending.Store(int64(n))
	if n, err = countPrefix(s.db, []byte(nsCopy)); err != nil {
		return err
	}
	s.copyBacklog.Store(int64(n))
	return nil
}

func countPrefix(db *pebble.DB, p []byte) (int, error) {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: kv.PrefixEnd(p)})
	if err != nil {
		return 0, err
	}
	n := 0
	for it.First(); it.Valid(); it.Next() {
		n++
	}
	return n, errorsJoin(it.Error(), it.Close())
}

func (s *Service) now() int64 { return s.opts.Now().UnixMilli() }

// queued tells the dispatcher that a queue key at time t was committed.
func (s *Service) queued(t int64) {
	s.queueFloor.report(t)
	s.kick()
}

// kick wakes the dispatcher.
func (s *Service) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Service) runningCount() int {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	return len(s.running)
}

// Stats is what /health/readiness and /health/metrics report.
type Stats struct {
	Workers     int     // max_concurrent_jobs: guest slots
	Running     int     // current_jobs: jobs in state running (guest executing or committing)
	Executing   int     // guests executing now (≤ Workers)
	Pending     int     // queue_depth
	Totals      Totals  // persisted
	AvgExecMS   float64 // over the last 1000 attempts that ended here
	Watching    int     // jobs with long-polls waiting
	ScannedKeys int64   // queue keys the dispatcher visited since start
	Claims      int64   // attempts the dispatcher started since start
	Copies      int64   // inputs and outputs copied into the blob store since start
	Locks       int     // job lock entries held or awaited
}

// Stats returns the scheduler's counters.
func (s *Service) Stats() Stats {
	st := Stats{
		Workers: s.workers, Running: s.runningCount(), Executing: len(s.guests), Pending: int(s.pending.Load()),
		AvgExecMS: s.durations.average(), Watching: s.watch.len(),
		ScannedKeys: s.stats.scanned.Load(), Claims: s.stats.claims.Load(), Locks: s.locks.held(),
		Copies: s.stats.copies.Load(),
	}
	for _, l := range s.allLanes() {
		st.Totals.add(l.get())
	}
	return st
}

func (s *Service) allLanes() []*lane {
	out := append([]*lane{s.apiLane, s.dispatchLane}, s.workerLanes...)
	return append(out, s.staticLanes...)
}
