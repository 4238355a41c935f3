package chain

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/kv"
	"github.com/onvm-network/onvm/internal/program"
	"github.com/onvm-network/onvm/internal/state"
	"github.com/onvm-network/onvm/internal/wasm"
)

// MaxRequestID bounds a client request id.
const MaxRequestID = 256

// Request is one execution.
type Request struct {
	Program id.Program
	Input   []byte
	// RequestID makes the execution idempotent: a second request with the
	// same id for the same program returns the first one's outcome
	// (Replayed) instead of executing again. Empty: not idempotent.
	RequestID string
	Fuel      uint64        // 0: Limits.DefaultFuel; capped at Limits.MaxFuel
	Timeout   time.Duration // 0: Limits.DefaultTimeout; capped at Limits.MaxTimeout
	// PreCommit, when set, runs under the program's lock once the guest has
	// succeeded, just before the transition's batch is applied. Writes it
	// adds to b commit atomically with the transition; an error aborts it
	// (nothing is committed, Execute returns the error). The after function
	// it returns (nil: none) is called once b is applied (visible; applied
	// true) or abandoned, so the caller may hold its own lock across the
	// commit. It is not called for a replayed request. The job scheduler
	// uses it to make a job's completed record part of its transition.
	PreCommit func(b *pebble.Batch, o *Outcome) (after func(applied bool), err error)
}

// Outcome is a successful execution: a committed transition.
type Outcome struct {
	Output   []byte
	FuelUsed uint64
	Logs     []wasm.Log
	Receipt  *consensus.CertifiedReceipt
	Replayed bool // the request id was already executed; nothing ran now
}

// ReceiptID returns the id of the outcome's receipt.
func (o *Outcome) ReceiptID() id.Hash { return o.Receipt.Receipt.ID() }

// RequestKey returns the receipt request id for a client request id: the
// job id BLAKE3(program ‖ request id), so a job and its execution share it.
func RequestKey(p id.Program, requestID string) id.Hash {
	return id.Hash(id.JobOf(p, requestID))
}

// anonymousRequest derives the request id of an execution without one: it
// seeds the guest's randomness and is unique per height.
func anonymousRequest(p id.Program, height uint64, input id.Hash) id.Hash {
	return id.Sum([]byte("ONVM:ANON-REQUEST:V1"), p[:], binary.BigEndian.AppendUint64(nil, height), input[:])
}

// Execute runs req as the program's next transition and commits it with its
// receipt, or fails leaving the program's state as it was. Guest failures
// are *wasm.Error values.
func (e *Engine) Execute(ctx context.Context, req Request) (*Outcome, error) {
	p := req.Program
	if e.closed.Load() {
		return nil, ErrClosed
	}
	if len(req.Input) > e.limits.MaxInput {
		return nil, fmt.Errorf("execute %s: %w: %d bytes (max %d)", p, ErrInputTooLarge, len(req.Input), e.limits.MaxInput)
	}
	if len(req.RequestID) > MaxRequestID {
		return nil, fmt.Errorf("execute %s: %w: request id longer than %d bytes", p, ErrInvalidRequest, MaxRequestID)
	}
	m, err := e.manifest(p)
	if err != nil {
		return nil, err
	}
	body := &m.Body
	if body.EnvHash != wasm.EnvHash() {
		return nil, fmt.Errorf("execute %s: %w", p, ErrEnvMismatch)
	}
	member, err := e.canFinalize(&body.Committee)
	if err != nil {
		if e.opts.Agree != nil && e.memberOf(&body.Committee) {
			return e.executeAgreed(ctx, req, id.Sum(req.Input))
		}
		return nil, fmt.Errorf("execute %s: %w", p, err)
	}
	code, err := e.loadCode(ctx, body.Instrumented)
	if err != nil {
		return nil, fmt.Errorf("execute %s: %w", p, err)
	}
	inputHash := id.Sum(req.Input)
	c := e.chain(p)
	for {
		o, again, err := e.executeOnce(ctx, req, c, body, member, code, inputHash)
		if !again {
			return o, err
		}
	}
}

// executeOnce is one attempt of Execute. It runs the guest under the
// program's lock against the head of the transition in flight, if any
// (its writes overlaid on the committed state), then waits for that
// transition's batch to be applied, stages its own writes and — unless the
// request has a PreCommit hook, which must run under the lock — releases
// the lock before signing the receipt, staging the records and applying the
// batch, so that the next execution's guest runs meanwhile. again is true
// when the transition in flight was abandoned: the guest ran against writes
// that never happened and must run again.
func (e *Engine) executeOnce(ctx context.Context, req Request, c *programChain, body *program.Body, member int, code []byte, inputHash id.Hash) (o *Outcome, again bool, err error) {
	p := req.Program
	c.mu.Lock()
	locked := true
	defer func() {
		if locked {
			c.mu.Unlock()
		}
	}()
	if err := e.loadHead(p, c); err != nil {
		return nil, false, err
	}
	var rid id.Hash
	if req.RequestID != "" {
		rid = RequestKey(p, req.RequestID)
		if c.next != nil && c.next.rid == rid && !c.settle() {
			return nil, true, nil
		}
		if o, ok, err := e.replay(p, rid, inputHash); ok || err != nil {
			return o, false, err
		}
	}
	if c.next != nil && c.next.applied() && !c.settle() {
		return nil, true, nil
	}
	prev, tip := c.next, c.head
	var view wasm.StateReader = stateView{e.state, p}
	if prev != nil {
		tip = prev.head
		view = overlayView{stateView{e.state, p}, prev.writes}
	}
	height := tip.Height + 1
	if req.RequestID == "" {
		rid = anonymousRequest(p, height, inputHash)
	}
	ts := max(e.opts.Now().UnixMilli(), tip.Timestamp+1)

	res, err := e.rt.Run(ctx, wasm.Call{
		Code:       code,
		CodeHash:   body.Instrumented.Hash(),
		Entrypoint: body.Entrypoints[0],
		Input:      req.Input,
		Fuel:       e.fuel(req.Fuel),
		MaxInput:   e.limits.MaxInput,
		Timestamp:  ts,
		RequestID:  rid,
		State:      view,
		Blobs:      blobView{ctx, e.blobs},
		Timeout:    e.timeout(req.Timeout),
		// Bounded before commit: a transition with more writes could not
		// be published, and the program's replicas would stop at it.
		MaxWriteSet: e.limits.MaxWriteSet,
	})
	if err != nil {
		return nil, false, fmt.Errorf("execute %s: %w", p, err)
	}
	if !c.settle() {
		return nil, true, nil
	}
	in := callInput{height: height, inputHash: inputHash, requestID: rid, timestamp: ts, preCommit: req.PreCommit}
	st, b, err := e.stageState(p, c.head, body, in, res)
	if err != nil {
		if b != nil {
			b.Close()
		}
		return nil, false, fmt.Errorf("execute %s height %d: %w", p, height, err)
	}
	defer b.Close()
	if req.PreCommit == nil {
		fl := &inflight{head: st.head, writes: st.writes, rid: rid, done: make(chan struct{})}
		c.next = fl
		c.mu.Unlock()
		locked = false
		t, err := e.seal(p, body, member, st, in, res, b)
		if err != nil {
			fl.err = err
		}
		close(fl.done)
		if err != nil {
			return nil, false, fmt.Errorf("execute %s height %d: %w", p, height, err)
		}
		return e.answer(p, t, res, b)
	}
	t, err := e.seal(p, body, member, st, in, res, b)
	if err != nil {
		return nil, false, fmt.Errorf("execute %s height %d: %w", p, height, err)
	}
	c.head = st.head
	c.mu.Unlock()
	locked = false
	return e.answer(p, t, res, b)
}

// answer waits for the transition's WAL sync and returns the outcome.
func (e *Engine) answer(p id.Program, t *Transition, res *wasm.Result, b *pebble.Batch) (*Outcome, bool, error) {
	if err := b.SyncWait(); err != nil {
		return nil, false, fmt.Errorf("execute %s height %d: sync: %w", p, t.Receipt.Receipt.Height, err)
	}
	return &Outcome{Output: res.Output, FuelUsed: res.FuelUsed, Logs: res.Logs, Receipt: &t.Receipt}, false, nil
}

// callInput is what a transition's receipt records of its call.
type callInput struct {
	height    uint64
	inputHash id.Hash
	requestID id.Hash
	timestamp int64
	preCommit func(*pebble.Batch, *Outcome) (func(bool), error) // Request.PreCommit
}

// staged is a transition whose state writes are staged: its receipt
// (unsigned) and the head it leads to.
type staged struct {
	writes  []state.Write
	receipt consensus.Receipt
	head    Head
}

// stageState stages a successful call's writes into a new batch
// (state.Apply, which reads the committed state: head must be applied) and
// builds the transition's receipt and new head. The program's lock is held.
// The caller closes b when it is non-nil.
func (e *Engine) stageState(p id.Program, head Head, body *program.Body, in callInput, res *wasm.Result) (*staged, *pebble.Batch, error) {
	writes := stateWrites(res.Writes)
	b := e.db.NewBatch()
	rootOut, err := e.state.Apply(b, p, head.Root, writes)
	if err != nil {
		return nil, b, err
	}
	st := &staged{writes: writes, receipt: receiptOf(p, body, head.Root, rootOut, in, writes, res, e.node)}
	st.head = Head{Height: in.height, Root: rootOut, Timestamp: in.timestamp, Receipt: st.receipt.ID(), Batch: in.height}
	return st, b, nil
}

// seal signs the staged transition's receipt, stages its records and head
// into b with the state, runs the PreCommit hook, and applies b without
// waiting for its WAL sync. The transition is then visible; it is durable
// once b.SyncWait returns: the next transition of the program may start
// while this one's sync is in flight, and its own sync covers this one (the
// WAL is ordered), so an answered transition is always durable with all
// before it. Nothing here needs the program's lock, except the PreCommit
// hook, which is documented to run under it.
func (e *Engine) seal(p id.Program, body *program.Body, member int, st *staged, in callInput, res *wasm.Result, b *pebble.Batch) (*Transition, error) {
	agg := e.finalize(&body.Committee, member, st.receipt)
	t := &Transition{Receipt: *agg, Writes: st.writes, HasOutput: true, Output: res.Output}
	if err := stage(b, t, res.Logs, st.head); err != nil {
		return nil, err
	}
	if err := e.opts.Outbox.StageTransition(b, t); err != nil {
		return nil, err
	}
	after := func(bool) {}
	if in.preCommit != nil {
		a, err := in.preCommit(b, &Outcome{Output: res.Output, FuelUsed: res.FuelUsed, Logs: res.Logs, Receipt: agg})
		if err != nil {
			return nil, err
		}
		if a != nil {
			after = a
		}
	}
	if err := e.db.ApplyNoSyncWait(b, pebble.Sync); err != nil {
		after(false)
		return nil, fmt.Errorf("commit: %w", err)
	}
	after(true)
	return t, nil
}

// commit is stageState and seal in one step, under the program's lock (the
// replication tests and benchmarks use it). The caller closes b (returned
// non-nil even on error).
func (e *Engine) commit(p id.Program, head Head, body *program.Body, member int, in callInput, res *wasm.Result) (*Transition, Head, *pebble.Batch, error) {
	st, b, err := e.stageState(p, head, body, in, res)
	if err != nil {
		return nil, Head{}, b, err
	}
	t, err := e.seal(p, body, member, st, in, res, b)
	if err != nil {
		return nil, Head{}, b, err
	}
	return t, st.head, b, nil
}

func (e *Engine) fuel(f uint64) uint64 {
	if f == 0 {
		return e.limits.DefaultFuel
	}
	return min(f, e.limits.MaxFuel)
}

func (e *Engine) timeout(d time.Duration) time.Duration {
	if d <= 0 {
		return e.limits.DefaultTimeout
	}
	return min(d, e.limits.MaxTimeout)
}

// replay returns the stored outcome of request rid of p, if there is one.
// c.mu is held.
func (e *Engine) replay(p id.Program, rid, inputHash id.Hash) (*Outcome, bool, error) {
	v, ok, err := kv.Get(e.db, key(nsByReq, rid[:]))
	if err != nil || !ok {
		return nil, false, err
	}
	rp, h, err := location(v)
	if err != nil {
		return nil, false, err
	}
	if rp != p {
		return nil, false, fmt.Errorf("request %s: %w: indexed under %s", rid, ErrCorrupt, rp)
	}
	rec, err := e.record(p, h, true)
	if err != nil {
		return nil, false, err
	}
	if rec.Receipt.Receipt.InputHash != inputHash {
		return nil, true, fmt.Errorf("execute %s: %w (height %d)", p, ErrRequestConflict, h)
	}
	if !rec.HasOutput {
		return nil, true, fmt.Errorf("execute %s: request already executed at height %d: %w", p, h, ErrOutputUnavailable)
	}
	// The first execution may still be waiting for its WAL sync: answer
	// only once what is answered is durable.
	if err := e.db.LogData(nil, pebble.Sync); err != nil {
		return nil, false, fmt.Errorf("execute %s: sync: %w", p, err)
	}
	r := rec.Receipt
	return &Outcome{Output: rec.Output, FuelUsed: r.Receipt.FuelUsed, Logs: rec.Logs, Receipt: &r, Replayed: true}, true, nil
}
