package dag

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/onvm-network/onvm/internal/id"
)

// Defaults of Config fields left zero.
const (
	DefaultMaxPendingPerSource = 4096
	DefaultMaxPending          = 65536
	rejectedMemory             = 8192
)

// Config configures a DAG.
type Config struct {
	// DB is the node's database; the DAG owns the "d/" prefix. Required.
	DB *pebble.DB
	// Registry defines the operation kinds and their handlers. Required.
	Registry *Registry
	// Key signs the node's own vertices. Without it Propose fails.
	Key ed25519.PrivateKey
	// Logger receives the DAG's few log lines (default: discard).
	Logger *slog.Logger
	// MaxPendingPerSource bounds the vertices buffered for missing parents
	// per sending peer (default DefaultMaxPendingPerSource).
	MaxPendingPerSource int
	// MaxPending bounds the whole pending buffer (default DefaultMaxPending).
	MaxPending int
	// Now stamps equivocation evidence and spaces log lines (default
	// time.Now). No acceptance rule reads it.
	Now func() time.Time
	// OnInvalidOp, when set, is told of each operation a handler refused,
	// with the author of its vertex (who signed it and is to blame). It
	// runs on the applying goroutine and must not block.
	OnInvalidOp func(author id.Node, kind string, err error)
	// Outbox is the node's outbox (NewOutbox over DB, with this node as
	// its author); nil opens one. Components that stage operations share
	// it with the DAG that proposes them.
	Outbox *Outbox
}

// DAG is the node's replica of the operation DAG. Add, AddRaw and Propose
// are serialised; queries run concurrently with them.
type DAG struct {
	db    *pebble.DB
	kinds map[Kind]KindSpec
	key   ed25519.PrivateKey
	self  id.Node
	log   *slog.Logger
	now   func() time.Time

	onInvalidOp func(author id.Node, kind string, err error)
	outbox      *Outbox

	mu       sync.Mutex // serialises insertion, proposal and application
	backlog  bool       // some accepted vertex is not fully applied
	stuckLog time.Time  // when an application failure was last logged
	waitLog  time.Time  // when vertices waiting for parents were last logged
	rejected *idMemory

	nextPos atomic.Uint64 // pos of the next accepted vertex

	pmu     sync.Mutex // guards pending
	pending *pending

	view    sync.RWMutex // guards the in-memory views below
	vv      VersionVector
	heads   map[id.Hash]id.Node
	flagged map[id.Node]Flag

	metas *lru.Cache[id.Hash, meta] // recently accepted vertices

	stats counters
}

// metaCacheSize bounds the cache of recently accepted vertices' metadata,
// which spares most parent lookups a trip to the store.
const metaCacheSize = 1 << 16

// Flag records that an author equivocated.
type Flag struct {
	Author     id.Node   `json:"author"`
	Seq        uint64    `json:"seq"`         // first sequence with two vertices
	DetectedAt time.Time `json:"detected_at"` // when this node first saw it
}

// Result reports what one Add did.
type Result struct {
	Accepted   int         // vertices accepted (including buffered ones released)
	Duplicates int         // vertices already known or already buffered
	Pending    int         // vertices buffered for missing parents
	Evicted    int         // buffered vertices dropped to make room
	Rejected   []Rejection // vertices refused, with the peer that sent each
	Missing    []id.Hash   // parents to fetch (bounded)
}

// Rejection is a refused vertex, who sent it and who signed it. The
// network layer lowers the score of the one to blame: the sender for data
// it should have checked, the author for what the author signed (see
// Reason.Stateful).
type Rejection struct {
	ID     id.Hash
	Source Source
	Author id.Node // zero if the bytes did not decode
	Reason Reason
	Err    error
}

// Open opens the DAG stored in cfg.DB, and applies any operation accepted
// before a crash but not yet applied.
func Open(ctx context.Context, cfg Config) (*DAG, error) {
	if cfg.DB == nil || cfg.Registry == nil {
		return nil, errors.New("open dag: DB and Registry are required")
	}
	d := &DAG{
		db: cfg.DB, kinds: cfg.Registry.clone(), key: cfg.Key, log: cfg.Logger, now: cfg.Now, onInvalidOp: cfg.OnInvalidOp,
		rejected: newIDMemory(rejectedMemory),
		vv:       make(VersionVector), heads: make(map[id.Hash]id.Node), flagged: make(map[id.Node]Flag),
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.key != nil {
		copy(d.self[:], d.key.Public().(ed25519.PublicKey))
	}
	per, total := cfg.MaxPendingPerSource, cfg.MaxPending
	if per <= 0 {
		per = DefaultMaxPendingPerSource
	}
	if total <= 0 {
		total = DefaultMaxPending
	}
	d.pending = newPending(per, total)
	d.metas, _ = lru.New[id.Hash, meta](metaCacheSize)
	if err := d.load(); err != nil {
		return nil, fmt.Errorf("open dag: %w", err)
	}
	d.outbox = cfg.Outbox
	if d.outbox == nil {
		var err error
		if d.outbox, err = NewOutbox(d.db, cfg.Registry, d.self); err != nil {
			return nil, fmt.Errorf("open dag: %w", err)
		}
	} else if d.outbox.db != d.db || d.outbox.self != d.self {
		return nil, errors.New("open dag: the outbox belongs to another database or node")
	}
	d.backlog = true
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.redrive(ctx); err != nil {
		return nil, fmt.Errorf("open dag: %w", err)
	}
	return d, nil
}

// load reads the in-memory views from the store.
func (d *DAG) load() error {
	err := scan(d.db, pfxClock, upper(pfxClock), func(k, v []byte) (bool, error) {
		if len(k) != len(pfxClock)+id.Size || len(v) != 8 {
			return false, fmt.Errorf("bad version vector record")
		}
		d.vv[id.Node(k[len(pfxClock):])] = binary.BigEndian.Uint64(v)
		return true, nil
	})
	if err != nil {
		return err
	}
	err = scan(d.db, pfxHead, upper(pfxHead), func(k, v []byte) (bool, error) {
		if len(k) != len(pfxHead)+id.Size || len(v) != id.Size {
			return false, fmt.Errorf("bad head record")
		}
		d.heads[id.Hash(k[len(pfxHead):])] = id.Node(v)
		return true, nil
	})
	if err != nil {
		return err
	}
	err = scan(d.db, pfxFlag, upper(pfxFlag), func(k, v []byte) (bool, error) {
		if len(k) != len(pfxFlag)+id.Size || len(v) != 16 {
			return false, fmt.Errorf("bad flag record")
		}
		a := id.Node(k[len(pfxFlag):])
		d.flagged[a] = Flag{Author: a, Seq: binary.BigEndian.Uint64(v),
			DetectedAt: time.UnixMilli(int64(binary.BigEndian.Uint64(v[8:]))).UTC()}
		return true, nil
	})
	if err != nil {
		return err
	}
	last, err := lastKey(d.db, pfxOrder)
	if err != nil {
		return err
	}
	next := uint64(1)
	if last != nil {
		next = binary.BigEndian.Uint64(last[len(pfxOrder):]) + 1
	}
	d.nextPos.Store(next)
	return nil
}

// Self returns the node's author id (zero without a key).
func (d *DAG) Self() id.Node { return d.self }

// Precheck runs every check that needs no state: signature, shape and each
// operation's stateless validator. The gossip layer calls it before
// forwarding a vertex; Add calls it for vertices not yet prechecked. A
// failure is counted under its reason.
func (d *DAG) Precheck(v *Vertex) error {
	if v.verified {
		return nil
	}
	if !v.sigOK {
		if err := v.Verify(); err != nil {
			d.stats.reject(reasonOf(err))
			return err
		}
		v.sigOK = true
	}
	if err := validateOps(d.kinds, v); err != nil {
		err = fmt.Errorf("precheck vertex %s: %w: %w", v.ID(), ErrInvalidVertex, err)
		d.stats.reject(reasonOf(err))
		return err
	}
	v.verified = true
	return nil
}

// DecodeAndPrecheck decodes untrusted bytes and prechecks the vertex,
// counting a failure under its reason.
func (d *DAG) DecodeAndPrecheck(b []byte) (*Vertex, error) {
	v, err := Decode(b)
	if err != nil {
		d.stats.reject(reasonOf(err))
		return nil, err
	}
	return v, d.Precheck(v)
}

// AddRaw decodes vertices received from src and adds them (see Add).
// Undecodable ones are reported as rejections.
func (d *DAG) AddRaw(ctx context.Context, src Source, raws [][]byte) (Result, error) {
	vs, rejected := d.DecodeBatch(src, raws)
	r, err := d.Add(ctx, src, vs...)
	r.Rejected = append(rejected, r.Rejected...)
	return r, err
}

// DecodeBatch decodes and prechecks vertices received from src, in
// parallel and without taking the insertion lock (signature checks
// dominate the cost of accepting a vertex). It returns the valid vertices
// in order and the rejections.
func (d *DAG) DecodeBatch(src Source, raws [][]byte) ([]*Vertex, []Rejection) {
	decoded := make([]*Vertex, len(raws))
	errs := make([]error, len(raws))
	workers := min(runtime.GOMAXPROCS(0), (len(raws)+31)/32)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(raws); i += workers {
				decoded[i], errs[i] = d.DecodeAndPrecheck(raws[i])
			}
		})
	}
	wg.Wait()
	vs := make([]*Vertex, 0, len(raws))
	var rejected []Rejection
	for i, b := range raws {
		if errs[i] != nil {
			rejected = append(rejected, Rejection{ID: id.Sum(b), Source: src, Reason: reasonOf(errs[i]), Err: errs[i]})
			continue
		}
		vs = append(vs, decoded[i])
	}
	return vs, rejected
}

// Add inserts vertices received from src. Each is prechecked; a vertex
// whose parents are all accepted is checked by its operations' handlers,
// stored, and its operations applied; one with missing parents waits in the
// pending buffer and is released when they arrive. An error is returned
// only for a local failure (storage, a handler's transient error); invalid
// vertices are reported in Result.Rejected.
func (d *DAG) Add(ctx context.Context, src Source, vs ...*Vertex) (Result, error) {
	var res Result
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.redrive(ctx); err != nil {
		return res, err
	}
	for _, v := range vs {
		if err := d.insert(ctx, src, v, &res); err != nil {
			return res, err
		}
	}
	d.pmu.Lock()
	res.Missing = d.pending.missing(256)
	d.pmu.Unlock()
	return res, nil
}

func (d *DAG) insert(ctx context.Context, src Source, v *Vertex, res *Result) error {
	h := v.ID()
	if err := d.Precheck(v); err != nil {
		res.Rejected = append(res.Rejected, Rejection{ID: h, Source: src, Author: v.Author, Reason: reasonOf(err), Err: err})
		return nil
	}
	if cause, bad := d.rejected.get(h); bad {
		d.stats.reject(reasonOf(cause))
		res.Rejected = append(res.Rejected, Rejection{ID: h, Source: src, Author: v.Author, Reason: reasonOf(cause), Err: cause})
		return nil
	}
	known, err := d.Has(h)
	if err != nil {
		return fmt.Errorf("add vertex %s: %w", h, err)
	}
	d.pmu.Lock()
	buffered := d.pending.has(h)
	d.pmu.Unlock()
	if known || buffered {
		d.stats.duplicates.Add(1)
		res.Duplicates++
		return nil
	}
	var missing []id.Hash
	for _, p := range v.Parents {
		if _, bad := d.rejected.get(p); bad {
			d.reject(res, src, v, fmt.Errorf("add vertex %s: %w: %w: parent %s", h, ErrInvalidVertex, errParentRejected, p))
			return nil
		}
		ok, err := d.Has(p)
		if err != nil {
			return fmt.Errorf("add vertex %s: %w", h, err)
		}
		if !ok {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		d.pmu.Lock()
		ev := d.pending.add(v, src, missing)
		n := d.pending.len()
		d.pmu.Unlock()
		d.waitingParents(v, src, missing[0], n)
		d.stats.evicted.Add(uint64(len(ev)))
		res.Evicted += len(ev)
		res.Pending++
		return nil
	}
	queue := []*pendingEntry{{v: v, src: src}}
	for len(queue) > 0 {
		e := queue[0]
		queue = queue[1:]
		rej, err := d.accept(ctx, e.v, false, nil)
		if err != nil {
			return err
		}
		if rej != nil {
			d.reject(res, e.src, e.v, rej)
			continue
		}
		res.Accepted++
		d.pmu.Lock()
		ready := d.pending.accepted(e.v.ID())
		d.pmu.Unlock()
		queue = append(queue, ready...)
	}
	return nil
}

// reject records v as rejected and rejects its buffered descendants.
func (d *DAG) reject(res *Result, src Source, v *Vertex, cause error) {
	h := v.ID()
	d.rejected.put(h, cause)
	d.stats.reject(reasonOf(cause))
	res.Rejected = append(res.Rejected, Rejection{ID: h, Source: src, Author: v.Author, Reason: reasonOf(cause), Err: cause})
	d.log.Debug("vertex rejected", "vertex", h, "peer", string(src), "err", cause)
	d.pmu.Lock()
	desc := d.pending.rejected(h)
	d.pmu.Unlock()
	for _, e := range desc {
		ch := e.v.ID()
		err := fmt.Errorf("add vertex %s: %w: %w: ancestor %s", ch, ErrInvalidVertex, errParentRejected, h)
		d.rejected.put(ch, err)
		d.stats.reject(ReasonParentRejected)
		res.Rejected = append(res.Rejected, Rejection{ID: ch, Source: e.src, Author: e.v.Author, Reason: ReasonParentRejected, Err: err})
	}
}

// idMemory remembers a bounded number of ids with their rejection cause.
type idMemory struct {
	mu   sync.Mutex
	m    map[id.Hash]error
	ring []id.Hash
	next int
}

func newIDMemory(n int) *idMemory {
	return &idMemory{m: make(map[id.Hash]error, n), ring: make([]id.Hash, n)}
}

func (r *idMemory) get(h id.Hash) (error, bool) { //nolint:revive // the error is the remembered value, not get failing
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.m[h]
	return e, ok
}

func (r *idMemory) put(h id.Hash, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.m[h]; ok {
		return
	}
	if old := r.ring[r.next]; !old.IsZero() {
		delete(r.m, old)
	}
	r.ring[r.next] = h
	r.m[h] = err
	r.next = (r.next + 1) % len(r.ring)
}

// waitLogEvery spaces the log lines about vertices waiting for parents.
const waitLogEvery = 30 * time.Second

// waitingParents logs, at most every waitLogEvery, that v waits for
// parent, with how many vertices wait (onvm_dag_vertices_pending); sync
// fetches missing parents, so a line that keeps coming back with the same
// parent names what never arrives. mu is held.
func (d *DAG) waitingParents(v *Vertex, src Source, parent id.Hash, pending int) {
	if now := d.now(); now.Sub(d.waitLog) >= waitLogEvery {
		d.waitLog = now
		d.log.Info("vertices wait for their parents", "pending", pending, "vertex", v.ID().String(),
			"author", v.Author.String(), "parent", parent.String(), "peer", string(src))
	}
}
