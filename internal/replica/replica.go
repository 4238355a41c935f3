package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/identity"
	"github.com/onvm-network/onvm/internal/p2p"
)

// Blob sync modes (storage.blob_sync_mode).
const (
	SyncFull     = "full"     // fetch every announced blob in the background
	SyncMetadata = "metadata" // keep metadata; fetch bytes on demand
)

// Defaults of Options.
const (
	DefaultFetchWait    = 60 * time.Second
	DefaultFetchWorkers = 4
	DefaultFetchRate    = 10 // on-demand fetches started per second
	DefaultMaxOnDemand  = 8  // on-demand fetches running at once
	DefaultForwardWait  = 2 * time.Minute
	// DefaultPendingWait bounds how long an execution waits for a program
	// whose manifest replicated but whose code is still being verified.
	DefaultPendingWait = 30 * time.Second
	// DefaultUnseenWait bounds how long a forwarded execution waits for a
	// program this node has not seen at all: the forwarding validator holds
	// its manifest, so it is most likely in a vertex still on its way (a
	// deployer publishes one every 500 ms slot).
	DefaultUnseenWait    = 10 * time.Second
	defaultFetchQueue    = 4096
	defaultSweepInterval = 30 * time.Second
	negativeTTL          = 10 * time.Second
)

// Options configure a Replica. DB, Blobs, Keys, Chain, Validators and
// Outgoing are required.
type Options struct {
	DB    *pebble.DB // the node database; the replica owns the "n/" keys
	Blobs *blob.Store
	Keys  *identity.Keys
	// Chain is the program engine, built with Outgoing as its Outbox and
	// Validators' list as its committee source.
	Chain      *chain.Engine
	Validators *ValidatorSet
	Outgoing   *Outgoing
	// SyncMode is SyncFull (default) or SyncMetadata.
	SyncMode string
	// MinPeers gates executions: below it Execute fails with
	// p2p.ErrNotEnoughPeers. 0 never gates.
	MinPeers int
	// FetchWait bounds how long Stat and Open wait for an on-demand fetch
	// (DefaultFetchWait); the fetch goes on in the background after that.
	FetchWait time.Duration
	// FetchWorkers bounds background fetches in full mode (DefaultFetchWorkers).
	FetchWorkers int
	// FetchRate and MaxOnDemand bound on-demand fetches: starts per second
	// and concurrent ones (DefaultFetchRate, DefaultMaxOnDemand).
	FetchRate   float64
	MaxOnDemand int
	// SweepInterval is how often work left behind is retried: blobs to
	// fetch in full mode, manifests awaiting code, transitions awaiting
	// their manifest (defaultSweepInterval).
	SweepInterval time.Duration
	Registerer    prometheus.Registerer // nil: metrics are not registered
	Logger        *slog.Logger
}

// Replica connects the node's stores to the DAG and the network. Build it
// with New, open the DAG with Registry, then Attach the DAG, network and
// proposer, and Start it.
type Replica struct {
	opts  Options
	db    *pebble.DB
	blobs *blob.Store
	keys  *identity.Keys
	self  id.Node
	log   *slog.Logger
	m     *metrics

	chain *chain.Engine
	out   *Outgoing

	// Set by Attach; nil before (handlers re-driven by dag.Open run
	// without a network, and leave network work to the sweeps).
	d    *dag.DAG
	net  *p2p.Network
	prop *dag.Proposer

	jobsMu sync.RWMutex
	jobs   JobService

	vals      *ValidatorSet
	progMu    sync.Mutex    // orders catalog installs against transitions waiting for them
	installed chan struct{} // closed and replaced at each install; guarded by progMu
	fetches   *fetcher
	verify    *workQueue[id.Program]
	asking    atomic.Bool // askAround is syncing
	provides  *workQueue[provideItem]

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	spawnMu sync.Mutex // orders wg.Go against Close
	closed  bool
	close   sync.Once
}

// New returns a replica over the node's database and blob store.
func New(opts Options) (*Replica, error) {
	if opts.DB == nil || opts.Blobs == nil || opts.Keys == nil || opts.Chain == nil || opts.Validators == nil || opts.Outgoing == nil {
		return nil, errors.New("replica: DB, Blobs, Keys, Chain, Validators and Outgoing are required")
	}
	if opts.SyncMode == "" {
		opts.SyncMode = SyncFull
	}
	if opts.SyncMode != SyncFull && opts.SyncMode != SyncMetadata {
		return nil, fmt.Errorf("replica: blob sync mode %q", opts.SyncMode)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.FetchWait <= 0 {
		opts.FetchWait = DefaultFetchWait
	}
	if opts.FetchWorkers <= 0 {
		opts.FetchWorkers = DefaultFetchWorkers
	}
	if opts.FetchRate <= 0 {
		opts.FetchRate = DefaultFetchRate
	}
	if opts.MaxOnDemand <= 0 {
		opts.MaxOnDemand = DefaultMaxOnDemand
	}
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = defaultSweepInterval
	}
	r := &Replica{
		opts: opts, db: opts.DB, blobs: opts.Blobs, keys: opts.Keys, self: opts.Keys.Node(),
		log: opts.Logger, m: newMetrics(opts.Registerer),
		chain: opts.Chain, out: opts.Outgoing, vals: opts.Validators,
		verify:   newWorkQueue[id.Program](defaultFetchQueue),
		provides: newWorkQueue[provideItem](defaultFetchQueue),
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.installed = make(chan struct{})
	r.fetches = newFetcher(r)
	if opts.Registerer != nil {
		_ = opts.Registerer.Register(gauges{r}) // a second replica in one registry keeps the first's
	}
	return r, nil
}

// Registry returns the operation registry with this replica's handlers,
// for dag.Open.
func (r *Replica) Registry() *dag.Registry {
	reg := op.Registry()
	for k, h := range map[dag.Kind]dag.Handler{
		op.KindBlobPublished:       blobHandler{r},
		op.KindProgramDeployed:     programHandler{r},
		op.KindTransition:          transitionHandler{r},
		op.KindJobRecord:           jobHandler{r},
		op.KindValidatorRegistered: validatorHandler{r},
	} {
		if err := reg.Handle(k, h); err != nil {
			panic(err) // every kind is defined by op.Registry
		}
	}
	return reg
}

// Attach connects the replica to the opened DAG, the network and the
// proposer, serves forwarded executions and starts the background
// workers. The proposer is started by Start.
func (r *Replica) Attach(d *dag.DAG, n *p2p.Network, prop *dag.Proposer) {
	r.d, r.net, r.prop = d, n, prop
	n.Exec().Handle(r.serveForward)
	r.fetches.start()
	r.spawn(r.verifyLoop)
	r.spawn(r.sweepLoop)
	r.spawn(r.provideLoop)
}

// SetJobs gives the job_record handler the job service; records that
// replicated before are imported now.
func (r *Replica) SetJobs(j JobService) {
	r.jobsMu.Lock()
	r.jobs = j
	r.jobsMu.Unlock()
	if err := r.importWaitingJobs(r.ctx); err != nil {
		r.log.Warn("import replicated job records", "err", err)
	}
}

// Close stops the background work and waits for it. The network, DAG and
// stores are closed by their owner afterwards. Idempotent.
func (r *Replica) Close() error {
	r.close.Do(func() {
		r.spawnMu.Lock()
		r.closed = true
		r.spawnMu.Unlock()
		r.cancel()
		r.wg.Wait()
	})
	return nil
}

// spawn runs f in a goroutine Close waits for; false once closed.
func (r *Replica) spawn(f func()) bool {
	r.spawnMu.Lock()
	defer r.spawnMu.Unlock()
	if r.closed {
		return false
	}
	r.wg.Go(f)
	return true
}

// Self returns this node's id.
func (r *Replica) Self() id.Node { return r.self }

// gate is the --min-peers check.
func (r *Replica) gate() error {
	if r.opts.MinPeers <= 0 {
		return nil
	}
	if r.net == nil {
		return fmt.Errorf("%w: network not started", p2p.ErrNotEnoughPeers)
	}
	return r.net.MinPeers(r.opts.MinPeers)()
}

// Gate returns nil when enough peers are connected to accept executions
// and job starts (network.min_peers), p2p.ErrNotEnoughPeers otherwise.
func (r *Replica) Gate() error { return r.gate() }

// sweepLoop retries what was left behind: blobs to fetch in full mode,
// manifests awaiting code, transitions awaiting their manifest.
func (r *Replica) sweepLoop() {
	t := time.NewTicker(r.opts.SweepInterval)
	defer t.Stop()
	for {
		r.sweep()
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *Replica) sweep() {
	if err := r.sweepManifests(); err != nil && r.ctx.Err() == nil {
		r.log.Warn("sweep manifests", "err", err)
	}
	if err := r.sweepWaiting(); err != nil && r.ctx.Err() == nil {
		r.log.Warn("sweep transitions", "err", err)
	}
	if r.opts.SyncMode == SyncFull {
		if err := r.sweepBlobs(); err != nil && r.ctx.Err() == nil {
			r.log.Warn("sweep blobs", "err", err)
		}
	}
	r.logWaiting()
}
