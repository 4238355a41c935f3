package chain

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
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
	Receipt  *consensus.AggregatedReceipt
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
		return nil, fmt.Errorf("execute %s: %w", p, err)
	}
	code, err := e.loadCode(ctx, body.Instrumented)
	if err != nil {
		return nil, fmt.Errorf("execute %s: %w", p, err)
	}
	inputHash := id.Sum(req.Input)

	c := e.chain(p)
	c.mu.Lock()
	locked := true
	defer func() {
		if locked {
			c.mu.Unlock()
		}
	}()
	head, err := e.headLocked(p, c)
	if err != nil {
		return nil, err
	}
	height := head.Height + 1
	var rid id.Hash
	if req.RequestID != "" {
		rid = RequestKey(p, req.RequestID)
		if o, ok, err := e.replay(p, rid, inputHash); ok || err != nil {
			return o, err
		}
	} else {
		rid = anonymousRequest(p, height, inputHash)
	}
	ts := max(e.opts.Now().UnixMilli(), head.Timestamp+1)

	res, err := e.rt.Run(ctx, wasm.Call{
		Code:       code,
		CodeHash:   body.Instrumented.Hash(),
		Entrypoint: body.Entrypoints[0],
		Input:      req.Input,
		Fuel:       e.fuel(req.Fuel),
		MaxInput:   e.limits.MaxInput,
		Timestamp:  ts,
		RequestID:  rid,
		State:      stateView{e.state, p},
		Blobs:      blobView{ctx, e.blobs},
		Timeout:    e.timeout(req.Timeout),
	})
	if err != nil {
		return nil, fmt.Errorf("execute %s: %w", p, err)
	}

	in := callInput{height: height, inputHash: inputHash, requestID: rid, timestamp: ts, preCommit: req.PreCommit}
	t, newHead, b, err := e.commit(p, head, body, member, in, res)
	if b != nil {
		defer b.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("execute %s height %d: %w", p, height, err)
	}
	c.head = newHead
	c.mu.Unlock()
	locked = false
	if err := b.SyncWait(); err != nil {
		return nil, fmt.Errorf("execute %s height %d: sync: %w", p, height, err)
	}
	if e.opts.Publisher != nil {
		e.opts.Publisher.TransitionCommitted(t)
	}
	return &Outcome{Output: res.Output, FuelUsed: res.FuelUsed, Logs: res.Logs, Receipt: &t.Receipt}, nil
}

// callInput is what a transition's receipt records of its call.
type callInput struct {
	height    uint64
	inputHash id.Hash
	requestID id.Hash
	timestamp int64
	preCommit func(*pebble.Batch, *Outcome) (func(bool), error) // Request.PreCommit
}

// commit turns a successful call into the program's next transition: it
// stages the writes (state.Apply), signs the receipt, stages the records
// and the new head into one batch, and applies the batch without waiting
// for its WAL sync. The transition is then visible; it is durable once the
// caller's b.SyncWait returns: the next transition of the program may
// start while this one's sync is in flight, and its own sync covers this
// one (the WAL is ordered), so an answered transition is always durable
// with all before it. The program's lock is held. The caller closes b
// (returned non-nil even on error).
func (e *Engine) commit(p id.Program, head Head, body *program.Body, member int, in callInput, res *wasm.Result) (*Transition, Head, *pebble.Batch, error) {
	writes := stateWrites(res.Writes)
	b := e.db.NewBatch()
	rootOut, err := e.state.Apply(b, p, head.Root, writes)
	if err != nil {
		return nil, Head{}, b, err
	}
	agg := e.finalize(&body.Committee, member, consensus.Receipt{
		Program:      p,
		Height:       in.height,
		StateRootIn:  head.Root,
		StateRootOut: rootOut,
		InputHash:    in.inputHash,
		RequestID:    in.requestID,
		FuelUsed:     res.FuelUsed,
		WriteDigest:  state.WriteDigest(writes),
		OutputHash:   id.Sum(res.Output),
		CodeHash:     body.Instrumented.Hash(),
		EnvHash:      body.EnvHash,
		Timestamp:    in.timestamp,
		Executor:     e.node,
		Epoch:        body.Committee.Epoch,
	})
	t := &Transition{Receipt: *agg, Writes: writes, HasOutput: true, Output: res.Output}
	newHead := Head{Height: in.height, Root: rootOut, Timestamp: in.timestamp, Receipt: agg.Receipt.ID()}
	if err := stage(b, t, res.Logs, newHead); err != nil {
		return nil, Head{}, b, err
	}
	after := func(bool) {}
	if in.preCommit != nil {
		a, err := in.preCommit(b, &Outcome{Output: res.Output, FuelUsed: res.FuelUsed, Logs: res.Logs, Receipt: agg})
		if err != nil {
			return nil, Head{}, b, err
		}
		if a != nil {
			after = a
		}
	}
	if err := e.db.ApplyNoSyncWait(b, pebble.Sync); err != nil {
		after(false)
		return nil, Head{}, b, fmt.Errorf("commit: %w", err)
	}
	after(true)
	return t, newHead, b, nil
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
	v, ok, err := get(e.db, key(nsByReq, rid[:]))
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
