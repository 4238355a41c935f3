package chain

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/bls"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/identity"
	"github.com/onvm-network/onvm/internal/program"
	"github.com/onvm-network/onvm/internal/state"
	"github.com/onvm-network/onvm/internal/wasm"
)

// BlobStore is what the engine needs from internal/blob: it stores deployed
// code and reads code and the blobs guests read.
type BlobStore interface {
	Put(ctx context.Context, r io.Reader, mime string) (blob.Info, bool, error)
	Stat(ctx context.Context, b id.Blob) (blob.Info, error)
	Open(ctx context.Context, b id.Blob) (*blob.Reader, error)
}

// Outbox takes the operations that tell the network of this node's
// commits: the manifest of each program deployed here and each transition
// this node finalizes. Each is staged in the batch of the commit it
// reports, so it is durable exactly when the commit is and a crash can
// lose neither without the other; an operation that could never travel is
// refused, and the commit with it. The replication layer stages them in
// the DAG's outbox (replica.Outgoing).
type Outbox interface {
	StageDeploy(b *pebble.Batch, m *program.Manifest) error
	StageTransition(b *pebble.Batch, t *Transition) error
}

// noOutbox is the Outbox of an engine that publishes nothing.
type noOutbox struct{}

func (noOutbox) StageDeploy(*pebble.Batch, *program.Manifest) error { return nil }
func (noOutbox) StageTransition(*pebble.Batch, *Transition) error   { return nil }

// Limits bound executions. Zero values select the defaults.
type Limits struct {
	DefaultFuel    uint64        // per call when the request names none; default wasm.DefaultFuel
	MaxFuel        uint64        // ceiling on a requested fuel limit; default 10 × DefaultFuel
	DefaultTimeout time.Duration // wall-clock limit per call; default 30s
	MaxTimeout     time.Duration // ceiling on a requested timeout; default 5 min
	MaxInput       int           // input bytes; default wasm.DefaultMaxInput (1 MiB)
	// MaxWriteSet bounds the state writes one execution may stage, as
	// wasm.WriteSetSize counts them (key + value + wasm.WriteOverhead per
	// key written); a guest that would exceed it fails with
	// wasm.KindWritesTooLarge and commits nothing. Default and ceiling
	// MaxWriteSet: every transition a node commits must be publishable.
	MaxWriteSet int
}

// MaxWriteSet is the default and the ceiling of Limits.MaxWriteSet (1 MiB).
// A transition operation carries the writes with at most 15 bytes of
// framing per write (less than wasm.WriteOverhead) and an aggregated
// receipt of under 1 KiB, so a transition at this limit encodes in about
// 1 MiB, half of dag.MaxOpSize (the replica's tests check the worst
// cases). See docs/rationale/execution.md.
const MaxWriteSet = 1 << 20

func (l Limits) withDefaults() Limits {
	if l.DefaultFuel == 0 {
		l.DefaultFuel = wasm.DefaultFuel
	}
	if l.MaxFuel == 0 {
		l.MaxFuel = 10 * l.DefaultFuel
	}
	if l.DefaultTimeout <= 0 {
		l.DefaultTimeout = wasm.DefaultTimeout
	}
	if l.MaxTimeout <= 0 {
		l.MaxTimeout = 5 * time.Minute
	}
	if l.MaxInput <= 0 {
		l.MaxInput = wasm.DefaultMaxInput
	}
	if l.MaxWriteSet <= 0 || l.MaxWriteSet > MaxWriteSet {
		l.MaxWriteSet = MaxWriteSet
	}
	return l
}

// Options configure an Engine. DB, State, Catalog, Blobs, Runtime and Keys
// are required.
type Options struct {
	DB      *pebble.DB // the node database; the engine owns the "r/" keys
	State   *state.Store
	Catalog *program.Catalog
	Blobs   BlobStore
	Runtime *wasm.Runtime
	Keys    *identity.Keys
	// Validators returns the registered validator set committees are chosen
	// from. nil: this node alone (its BLS key and proof of possession).
	Validators func() []consensus.Validator
	// CommitteeSize is k in min(k, validators); 0 = consensus.DefaultCommitteeSize.
	CommitteeSize int
	Limits        Limits
	// MaxAhead is how many heights beyond the local head ApplyFinalized
	// buffers; 0 = 1024.
	MaxAhead uint64
	// CodeCacheBytes bounds the in-memory cache of instrumented code; 0 =
	// 256 MiB.
	CodeCacheBytes int64
	Outbox         Outbox // nil: publishes nothing (an engine on its own)
	// Agree finalizes transitions of programs whose committee has several
	// members; nil: this node executes only programs it finalizes alone.
	Agree  Agreement
	Now    func() time.Time
	Logger *slog.Logger
}

// Engine deploys, executes and replicates programs. It is safe for
// concurrent use.
type Engine struct {
	db      *pebble.DB
	state   *state.Store
	catalog *program.Catalog
	blobs   BlobStore
	rt      *wasm.Runtime
	keys    *identity.Keys
	node    id.Node
	blsPub  bls.PublicKey
	opts    Options
	limits  Limits
	code    *codeCache
	log     *slog.Logger

	chains sync.Map // id.Program → *programChain
	queues sync.Map // id.Program → *pendingCalls: calls waiting for agreement

	execMu   sync.Mutex
	executed map[id.Hash]*executed // batches executed for a vote, by value

	ctx    context.Context // lifetime: cancelled by Close
	cancel context.CancelFunc
	closed atomic.Bool
	// failedRuns counts calls that failed where this member proposed them.
	failedRuns atomic.Uint64
	wg         sync.WaitGroup // background compilations (Warm)
}

// programChain serialises the transitions of one program and caches its head.
type programChain struct {
	mu     sync.Mutex
	loaded bool
	head   Head      // the last applied transition's
	next   *inflight // the transition being sealed outside mu, if any
}

// New returns an engine.
func New(opts Options) (*Engine, error) {
	if opts.DB == nil || opts.State == nil || opts.Catalog == nil || opts.Blobs == nil || opts.Runtime == nil || opts.Keys == nil {
		return nil, fmt.Errorf("chain: %w: missing a required option", ErrInvalidRequest)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Outbox == nil {
		opts.Outbox = noOutbox{}
	}
	if opts.MaxAhead == 0 {
		opts.MaxAhead = 1024
	}
	if opts.CodeCacheBytes <= 0 {
		opts.CodeCacheBytes = 256 << 20
	}
	e := &Engine{
		db: opts.DB, state: opts.State, catalog: opts.Catalog, blobs: opts.Blobs, rt: opts.Runtime,
		keys: opts.Keys, node: opts.Keys.Node(), blsPub: opts.Keys.BLS.PublicKey(),
		opts: opts, limits: opts.Limits.withDefaults(), log: opts.Logger,
	}
	e.code = newCodeCache(opts.CodeCacheBytes)
	e.executed = make(map[id.Hash]*executed)
	e.ctx, e.cancel = context.WithCancel(context.Background())
	return e, nil
}

// Close stops background work and waits for it. Executions in flight must
// have returned. It does not close the database, stores or runtime, which
// the node owns. Close is idempotent.
func (e *Engine) Close() error {
	if e.closed.Swap(true) {
		return nil
	}
	e.cancel()
	e.wg.Wait()
	return nil
}

// Node returns the id of the node the engine signs for.
func (e *Engine) Node() id.Node { return e.node }

// Catalog returns the program catalog.
func (e *Engine) Catalog() *program.Catalog { return e.catalog }

// Limits returns the effective execution limits.
func (e *Engine) Limits() Limits { return e.limits }

// chain returns p's lock and head cache.
func (e *Engine) chain(p id.Program) *programChain {
	if c, ok := e.chains.Load(p); ok {
		return c.(*programChain)
	}
	c, _ := e.chains.LoadOrStore(p, &programChain{})
	return c.(*programChain)
}

// headLocked returns p's head, once its transition in flight (if any) is
// applied or abandoned; c.mu must be held.
func (e *Engine) headLocked(p id.Program, c *programChain) (Head, error) {
	if err := e.loadHead(p, c); err != nil {
		return Head{}, err
	}
	c.settle()
	return c.head, nil
}

// loadHead reads p's head from the database the first time; c.mu must be
// held.
func (e *Engine) loadHead(p id.Program, c *programChain) error {
	if c.loaded {
		return nil
	}
	h, err := e.readHead(p)
	if err != nil {
		return err
	}
	root, err := e.state.Root(p)
	if err != nil {
		return err
	}
	if root != h.Root {
		return fmt.Errorf("program %s: %w: state root %s, chain head root %s at height %d", p, ErrCorrupt, root, h.Root, h.Height)
	}
	c.head, c.loaded = h, true
	return nil
}

func (e *Engine) readHead(p id.Program) (Head, error) {
	var h Head
	ok, err := decode(e.db, key(nsHead, p[:]), &h)
	if err != nil {
		return Head{}, fmt.Errorf("read head of %s: %w", p, err)
	}
	if !ok {
		h = Head{Root: state.EmptyRoot}
	}
	return h, nil
}

// Head returns p's latest committed height, root and logical time. An
// unknown program is ErrNotFound.
func (e *Engine) Head(p id.Program) (Head, error) {
	if _, err := e.manifest(p); err != nil {
		return Head{}, err
	}
	c := e.chain(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	return e.headLocked(p, c)
}

// manifest returns p's manifest, mapping the catalog's not-found to ErrNotFound.
func (e *Engine) manifest(p id.Program) (*program.Manifest, error) {
	m, err := e.catalog.Get(p)
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("program %s: %w", p, ErrNotFound)
		}
		return nil, err
	}
	return m, nil
}

// Manifest returns the manifest of p, or ErrNotFound.
func (e *Engine) Manifest(p id.Program) (*program.Manifest, error) { return e.manifest(p) }

// Programs lists the catalog: up to limit manifests after the program id
// after (from the first when nil), and whether more follow.
func (e *Engine) Programs(after *id.Program, limit int) ([]*program.Manifest, bool, error) {
	return e.catalog.List(after, limit)
}
