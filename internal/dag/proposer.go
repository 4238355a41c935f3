package dag

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Defaults of ProposerConfig fields left zero.
const (
	DefaultSlot          = 500 * time.Millisecond
	DefaultMaxQueue      = 16 * MaxOps
	DefaultMaxQueueBytes = 64 << 20
	// opBudget is the room a vertex leaves for operations: MaxVertexSize
	// less the header, MaxParents parents and the signature, with margin.
	opBudget = MaxVertexSize - 16<<10
	// opOverhead bounds the encoding of an Op around its body.
	opOverhead = 16
)

// ProposerConfig configures a Proposer.
type ProposerConfig struct {
	// Slot is the batching interval (default DefaultSlot, 500 ms): at most
	// one partial vertex per slot; a full one goes out at once.
	Slot time.Duration
	// MaxQueue bounds queued operations (default DefaultMaxQueue).
	MaxQueue int
	// MaxQueueBytes bounds their bodies' total size (default 64 MiB).
	MaxQueueBytes int
	// Announce is called with each new vertex after it is durably stored
	// and applied locally; the node publishes it. May be nil.
	Announce func(ctx context.Context, v *Vertex)
	// OnDropped is told about each operation the DAG refused at proposal
	// time (its handler check failed). May be nil.
	OnDropped func(err error)
	// Logger (default: discard).
	Logger *slog.Logger
}

// proposeFunc is DAG.Propose; a seam for tests.
type proposeFunc func(ctx context.Context, ops []Op) (*Vertex, []error, error)

// Proposer batches the node's own operations into vertices: one per slot
// when at least one operation is queued, at once when a vertex's worth is.
type Proposer struct {
	propose  proposeFunc
	next     func(ctx context.Context) (*Vertex, []error, error) // DAG.ProposeNext; nil: no outbox
	validate func(Op) error
	cfg      ProposerConfig

	mu     sync.Mutex
	queue  []Op
	qbytes int
	full   chan struct{} // signalled when a full vertex is queued
	emitMu sync.Mutex    // one emission at a time
}

// NewProposer returns a proposer for d, which must have a signing key.
func NewProposer(d *DAG, cfg ProposerConfig) (*Proposer, error) {
	if d.key == nil {
		return nil, ErrNoKey
	}
	p := newProposer(d.Propose, d.checkLocal, cfg)
	p.next = d.ProposeNext
	return p, nil
}

func newProposer(propose proposeFunc, validate func(Op) error, cfg ProposerConfig) *Proposer {
	if cfg.Slot <= 0 {
		cfg.Slot = DefaultSlot
	}
	if cfg.MaxQueue <= 0 {
		cfg.MaxQueue = DefaultMaxQueue
	}
	if cfg.MaxQueueBytes <= 0 {
		cfg.MaxQueueBytes = DefaultMaxQueueBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Proposer{propose: propose, validate: validate, cfg: cfg, full: make(chan struct{}, 1)}
}

// Submit queues op for the next vertex after checking it statelessly. A
// full queue is ErrQueueFull: the caller backs off, nothing is dropped
// silently.
func (p *Proposer) Submit(op Op) error {
	if len(op.Body) == 0 || len(op.Body) > MaxOpSize {
		return fmt.Errorf("submit operation kind %d: %w: body of %d bytes", op.Kind, ErrInvalidOp, len(op.Body))
	}
	if err := p.validate(op); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) >= p.cfg.MaxQueue || p.qbytes+len(op.Body) > p.cfg.MaxQueueBytes {
		return fmt.Errorf("submit operation kind %d: %w (%d queued)", op.Kind, ErrQueueFull, len(p.queue))
	}
	p.queue = append(p.queue, op)
	p.qbytes += len(op.Body)
	if len(p.queue) >= MaxOps || p.qbytes+len(p.queue)*opOverhead >= opBudget {
		select {
		case p.full <- struct{}{}:
		default:
		}
	}
	return nil
}

// Queued returns the number of operations waiting.
func (p *Proposer) Queued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queue)
}

// Run emits vertices until ctx is done, then emits what is still queued
// (with a short grace period) and returns ctx's error.
func (p *Proposer) Run(ctx context.Context) error {
	t := time.NewTicker(p.cfg.Slot)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			err := p.Flush(final)
			cancel()
			if err != nil {
				p.cfg.Logger.Warn("final proposal failed", "err", err)
			}
			return ctx.Err()
		case <-t.C:
		case <-p.full:
		}
		if err := p.Flush(ctx); err != nil && ctx.Err() == nil {
			p.cfg.Logger.Warn("proposal failed", "err", err)
		}
	}
}

// Flush emits everything queued now and everything in the DAG's outbox,
// in as many vertices as needed. On a proposal error the operations not
// yet emitted stay queued (outbox entries stay in the outbox).
func (p *Proposer) Flush(ctx context.Context) error {
	p.emitMu.Lock()
	defer p.emitMu.Unlock()
	for {
		batch := p.take()
		if len(batch) == 0 {
			break
		}
		v, dropped, err := p.propose(ctx, batch)
		p.report(dropped)
		if err != nil {
			if !errors.Is(err, ErrInvalidVertex) {
				p.requeue(batch)
			}
			return err
		}
		p.announce(ctx, v)
	}
	for p.next != nil {
		v, dropped, err := p.next(ctx)
		p.report(dropped)
		if err != nil || v == nil {
			return err
		}
		p.announce(ctx, v)
	}
	return nil
}

func (p *Proposer) report(dropped []error) {
	for _, e := range dropped {
		p.cfg.Logger.Warn("operation dropped", "err", e)
		if p.cfg.OnDropped != nil {
			p.cfg.OnDropped(e)
		}
	}
}

func (p *Proposer) announce(ctx context.Context, v *Vertex) {
	if v != nil && p.cfg.Announce != nil {
		p.cfg.Announce(ctx, v)
	}
}

// take removes the next vertex's worth of operations from the queue.
func (p *Proposer) take() []Op {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, size := 0, 0
	for n < len(p.queue) && n < MaxOps {
		s := len(p.queue[n].Body) + opOverhead
		if n > 0 && size+s > opBudget {
			break
		}
		size += s
		n++
	}
	batch := append([]Op(nil), p.queue[:n]...)
	p.queue = append(p.queue[:0:0], p.queue[n:]...)
	for _, op := range batch {
		p.qbytes -= len(op.Body)
	}
	return batch
}

func (p *Proposer) requeue(batch []Op) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.queue = append(batch, p.queue...)
	for _, op := range batch {
		p.qbytes += len(op.Body)
	}
}
