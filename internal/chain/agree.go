package chain

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/kv"
	"github.com/onvm-network/onvm/internal/program"
	"github.com/onvm-network/onvm/internal/state"
	"github.com/onvm-network/onvm/internal/wasm"
)

// Agreement is what the engine needs from the committee shell
// (internal/committee) to finalize transitions of a program whose
// committee has several members.
type Agreement interface {
	// Wake tells the shell that calls of p are pending.
	Wake(p id.Program) error
	// Submit hands a pending call to the program's other members, so that
	// whichever leads a round can propose it.
	Submit(p id.Program, call []byte)
}

// Limits of the agreement path.
const (
	// maxBatchCalls bounds the calls a leader proposes in one batch.
	maxBatchCalls = 64
	// maxPending bounds the calls waiting for agreement, per program.
	maxPending = 4096
	// maxSkew is how far ahead of a member's clock a proposed call's
	// logical time may be.
	maxSkew = 30 * time.Second
	// maxExecuted bounds the batches a member keeps executed between its
	// vote and the decision.
	maxExecuted = 64
)

// ErrNotDecided reports a call its committee did not decide in time; with
// a request id it may be retried safely.
var ErrNotDecided = errors.New("the committee did not decide the call in time")

// ErrBusy reports a program with too many calls waiting for agreement.
var ErrBusy = errors.New("too many calls waiting for the committee")

// wireCall is a pending call as members hand it to each other, or, with
// Failed set, the news that the member leading a round could not execute
// it: members drop the call, and the one that took it from a client
// answers with the failure instead of waiting until the call expires.
type wireCall struct {
	Input     []byte       `cbor:"1,keyasint,omitempty"`
	Fuel      uint64       `cbor:"2,keyasint,omitempty"`
	RequestID id.Hash      `cbor:"3,keyasint"`
	Failed    *wireFailure `cbor:"4,keyasint,omitempty"`
}

// wireFailure is why a call failed at the member that executed it: the
// runtime's verdict (a trap, running out of fuel: the guest's own failure,
// which every member would reach), or kind 0 for a failure of that
// member's node, which the client may retry.
type wireFailure struct {
	Kind     uint8  `cbor:"1,keyasint"`
	Message  string `cbor:"2,keyasint"`
	FuelUsed uint64 `cbor:"3,keyasint"`
}

// maxFailureMessage bounds a failure's message.
const maxFailureMessage = 512

func failureOf(err error) *wireFailure {
	var we *wasm.Error
	if errors.As(err, &we) {
		msg := we.Message
		if len(msg) > maxFailureMessage {
			msg = msg[:maxFailureMessage]
		}
		return &wireFailure{Kind: uint8(we.Kind), Message: msg, FuelUsed: we.FuelUsed}
	}
	return &wireFailure{Message: "execution failed on the member leading the round"}
}

func (f *wireFailure) err(p id.Program) error {
	if f.Kind == 0 {
		return fmt.Errorf("execute %s: %w: %s", p, ErrNotDecided, f.Message)
	}
	return fmt.Errorf("execute %s: %w", p, &wasm.Error{Kind: wasm.ErrorKind(f.Kind), Message: f.Message, FuelUsed: f.FuelUsed})
}

// pendingCall is a call waiting for its committee. answer is set on the
// member that took the call from a client.
type pendingCall struct {
	wireCall
	expires   time.Time
	preCommit func(*pebble.Batch, *Outcome) (func(bool), error)
	answer    chan answer
}

type answer struct {
	o   *Outcome
	err error
}

// pendingCalls are a program's calls waiting for agreement, in arrival
// order.
type pendingCalls struct {
	mu    sync.Mutex
	order []id.Hash
	calls map[id.Hash]*pendingCall
}

func (e *Engine) pending(p id.Program) *pendingCalls {
	if q, ok := e.queues.Load(p); ok {
		return q.(*pendingCalls)
	}
	q, _ := e.queues.LoadOrStore(p, &pendingCalls{calls: make(map[id.Hash]*pendingCall)})
	return q.(*pendingCalls)
}

// add queues pc unless a call with its request id is queued already; it
// reports whether pc was added.
func (q *pendingCalls) add(pc *pendingCall) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if old, ok := q.calls[pc.RequestID]; ok {
		if old.answer == nil && pc.answer != nil { // the client's member takes over the answer
			old.answer, old.preCommit, old.expires = pc.answer, pc.preCommit, pc.expires
			return true, nil
		}
		return false, nil
	}
	if len(q.calls) >= maxPending {
		return false, ErrBusy
	}
	q.calls[pc.RequestID] = pc
	q.order = append(q.order, pc.RequestID)
	return true, nil
}

// take returns up to n calls in arrival order, dropping expired ones.
func (q *pendingCalls) take(n int, now time.Time) []*pendingCall {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []*pendingCall
	kept := q.order[:0]
	for _, rid := range q.order {
		pc, ok := q.calls[rid]
		if !ok {
			continue
		}
		if now.After(pc.expires) {
			delete(q.calls, rid)
			if pc.answer != nil {
				pc.answer <- answer{err: ErrNotDecided}
			}
			continue
		}
		kept = append(kept, rid)
		if len(out) < n {
			out = append(out, pc)
		}
	}
	q.order = kept
	return out
}

// done removes the call rid and returns it, if it was queued.
func (q *pendingCalls) done(rid id.Hash) *pendingCall {
	q.mu.Lock()
	defer q.mu.Unlock()
	pc := q.calls[rid]
	delete(q.calls, rid)
	return pc
}

// peek returns the call rid, if it is queued.
func (q *pendingCalls) peek(rid id.Hash) *pendingCall {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.calls[rid]
}

func (q *pendingCalls) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.calls)
}

// executeAgreed queues req for p's committee, hands it to the other
// members and waits for the batch that decides it.
func (e *Engine) executeAgreed(ctx context.Context, req Request, inputHash id.Hash) (*Outcome, error) {
	p := req.Program
	var rid id.Hash
	if req.RequestID != "" {
		rid = RequestKey(p, req.RequestID)
		c := e.chain(p)
		c.mu.Lock()
		o, ok, err := e.replay(p, rid, inputHash)
		c.mu.Unlock()
		if ok || err != nil {
			return o, err
		}
	} else {
		var nonce [32]byte
		_, _ = rand.Read(nonce[:])
		rid = id.Sum([]byte("ONVM:ANON-REQUEST:V2"), p[:], nonce[:], inputHash[:])
	}
	patience := 2*e.timeout(req.Timeout) + maxSkew
	pc := &pendingCall{
		wireCall:  wireCall{Input: req.Input, Fuel: e.fuel(req.Fuel), RequestID: rid},
		expires:   e.opts.Now().Add(patience),
		preCommit: req.PreCommit,
		answer:    make(chan answer, 1),
	}
	if _, err := e.pending(p).add(pc); err != nil {
		return nil, fmt.Errorf("execute %s: %w", p, err)
	}
	e.opts.Agree.Submit(p, codec.MustMarshal(&pc.wireCall))
	if err := e.opts.Agree.Wake(p); err != nil {
		e.pending(p).done(rid)
		return nil, fmt.Errorf("execute %s: %w", p, err)
	}
	wait := time.NewTimer(patience)
	defer wait.Stop()
	select {
	case a := <-pc.answer:
		return a.o, a.err
	case <-ctx.Done():
		return nil, fmt.Errorf("execute %s: %w", p, ctx.Err())
	case <-wait.C:
		return nil, fmt.Errorf("execute %s: %w", p, ErrNotDecided)
	case <-e.ctx.Done():
		return nil, ErrClosed
	}
}

// App returns the engine as the application of p's committee agreement
// (committee.App).
func (e *Engine) App() *App { return &App{e: e} }

// App is the engine as its committees' application: it proposes batches of
// pending calls, validates members' proposals by executing them again and
// commits decided batches with their certificate.
type App struct{ e *Engine }

// Committee returns p's committee and the batch to decide next.
func (a *App) Committee(p id.Program) (*consensus.Committee, uint64, error) {
	m, err := a.e.manifest(p)
	if err != nil {
		return nil, 0, err
	}
	h, err := a.e.Head(p)
	if err != nil {
		return nil, 0, err
	}
	return &m.Body.Committee, h.Batch + 1, nil
}

// Pending reports whether calls of p wait for agreement.
func (a *App) Pending(p id.Program) bool { return a.e.pending(p).len() > 0 }

// Deliver queues a call another member took from a client.
func (a *App) Deliver(p id.Program, b []byte) error {
	var w wireCall
	if err := codec.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("%w: call: %v", ErrInvalidRequest, err)
	}
	if w.Failed != nil {
		if len(w.Failed.Message) > maxFailureMessage || w.Failed.Kind > uint8(wasm.KindCompiling) {
			return fmt.Errorf("%w: call failure out of bounds", ErrInvalidRequest)
		}
		if pc := a.e.pending(p).done(w.RequestID); pc != nil && pc.answer != nil {
			pc.answer <- answer{err: w.Failed.err(p)}
		}
		return nil
	}
	if len(w.Input) > a.e.limits.MaxInput {
		return fmt.Errorf("%w: call input of %d bytes", ErrInputTooLarge, len(w.Input))
	}
	if a.e.decided(w.RequestID) {
		return nil
	}
	_, err := a.e.pending(p).add(&pendingCall{wireCall: w, expires: a.e.opts.Now().Add(2*a.e.limits.MaxTimeout + maxSkew)})
	return err
}

// ValueOf returns the batch root a proposed content stands for.
func (a *App) ValueOf(content []byte) (id.Hash, error) {
	b, err := decodeBatch(content)
	if err != nil {
		return id.Hash{}, err
	}
	return b.root(), nil
}

// Propose executes pending calls of p on top of its head, one height each,
// as batch h.
func (a *App) Propose(ctx context.Context, p id.Program, h uint64) (id.Hash, []byte, bool, error) {
	e := a.e
	m, err := e.manifest(p)
	if err != nil {
		return id.Hash{}, nil, false, err
	}
	code, err := e.loadCode(ctx, m.Body.Instrumented)
	if err != nil {
		return id.Hash{}, nil, false, err
	}
	c := e.chain(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	head, err := e.headLocked(p, c)
	if err != nil || head.Batch+1 != h {
		return id.Hash{}, nil, false, err
	}
	q := e.pending(p)
	ex := &executed{content: &batchContent{}}
	var overlay []state.Write
	tip := head
	for _, pc := range q.take(maxBatchCalls, e.opts.Now()) {
		if e.decided(pc.RequestID) {
			e.answerReplay(p, q.done(pc.RequestID))
			continue
		}
		in := callInput{height: tip.Height + 1, inputHash: id.Sum(pc.Input), requestID: pc.RequestID, timestamp: max(e.opts.Now().UnixMilli(), tip.Timestamp+1)}
		r, res, writes, err := e.run(ctx, p, &m.Body, code, overlay, tip, in, pc.Input, pc.Fuel, e.node)
		if err != nil {
			e.failedRuns.Add(1)
			if done := q.done(pc.RequestID); done != nil && done.answer != nil {
				done.answer <- answer{err: fmt.Errorf("execute %s: %w", p, err)}
			}
			e.opts.Agree.Submit(p, codec.MustMarshal(&wireCall{RequestID: pc.RequestID, Failed: failureOf(err)}))
			continue
		}
		overlay = mergeWrites(overlay, writes)
		ex.content.Calls = append(ex.content.Calls, batchCall{Input: pc.Input, Fuel: pc.Fuel, Receipt: *r})
		ex.results = append(ex.results, callResult{writes: writes, output: res.Output, logs: res.Logs})
		tip = Head{Height: r.Height, Root: r.StateRootOut, Timestamp: r.Timestamp}
	}
	if len(ex.content.Calls) == 0 {
		return id.Hash{}, nil, false, nil
	}
	v := ex.content.root()
	e.keepExecuted(v, ex)
	return v, ex.content.encode(), true, nil
}

// run executes one call of a batch against the head's state with overlay
// (the writes of the batch's earlier calls) on top, and returns its
// receipt, signed by no one yet, and its effective writes.
func (e *Engine) run(ctx context.Context, p id.Program, body *program.Body, code []byte, overlay []state.Write, tip Head, in callInput, input []byte, fuel uint64, executor id.Node) (*consensus.Receipt, *wasm.Result, []state.Write, error) {
	res, err := e.rt.Run(ctx, wasm.Call{
		Code: code, CodeHash: body.Instrumented.Hash(), Entrypoint: body.Entrypoints[0],
		Input: input, Fuel: fuel, MaxInput: e.limits.MaxInput, Timestamp: in.timestamp, RequestID: in.requestID,
		State: overlayView{stateView{e.state, p}, overlay}, Blobs: blobView{ctx, e.blobs},
		Timeout: e.limits.DefaultTimeout, MaxWriteSet: e.limits.MaxWriteSet,
	})
	if err != nil {
		return nil, nil, nil, err
	}
	writes := stateWrites(res.Writes)
	root, err := e.state.RootWith(p, mergeWrites(overlay, writes))
	if err != nil {
		return nil, nil, nil, err
	}
	r := receiptOf(p, body, tip.Root, root, in, writes, res, executor)
	return &r, res, writes, nil
}

// receiptOf is the receipt of a call that took the state from rootIn to
// rootOut, executed by executor.
func receiptOf(p id.Program, body *program.Body, rootIn, rootOut id.Hash, in callInput, writes []state.Write, res *wasm.Result, executor id.Node) consensus.Receipt {
	return consensus.Receipt{
		Program: p, Height: in.height, StateRootIn: rootIn, StateRootOut: rootOut,
		InputHash: in.inputHash, RequestID: in.requestID, FuelUsed: res.FuelUsed,
		WriteDigest: state.WriteDigest(writes), OutputHash: id.Sum(res.Output),
		CodeHash: body.Instrumented.Hash(), EnvHash: body.EnvHash, Timestamp: in.timestamp,
		Executor: executor, Epoch: body.Committee.Epoch,
	}
}

// Validate reports whether content is batch h of p as this member executes
// it: the next heights on its head, calls not decided before, logical
// times that move forward and are not ahead of this member's clock by more
// than maxSkew, and each receipt exactly the one re-executing its call
// gives.
func (a *App) Validate(ctx context.Context, p id.Program, h uint64, value id.Hash, content []byte) (bool, error) {
	e := a.e
	b, err := decodeBatch(content)
	if err != nil || b.root() != value {
		return false, nil
	}
	m, err := e.manifest(p)
	if err != nil {
		return false, err
	}
	code, err := e.loadCode(ctx, m.Body.Instrumented)
	if err != nil {
		return false, err
	}
	c := e.chain(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	head, err := e.headLocked(p, c)
	if err != nil {
		return false, err
	}
	if head.Batch+1 != h {
		return false, fmt.Errorf("batch %d of %s: this member is at batch %d", h, p, head.Batch+1)
	}
	ex, err := e.reexecute(ctx, p, &m.Body, code, head, b, true)
	if err != nil {
		e.log.Warn("proposed batch refused", "program", p.String(), "batch", h, "err", err)
		return false, nil
	}
	e.keepExecuted(value, ex)
	return true, nil
}

// reexecute runs a batch's calls again on top of head and checks that each
// gives the receipt the batch names. fresh also checks what only a batch
// not yet decided must satisfy: request ids not decided before and logical
// times not ahead of this member's clock. c.mu is held.
func (e *Engine) reexecute(ctx context.Context, p id.Program, body *program.Body, code []byte, head Head, b *batchContent, fresh bool) (*executed, error) {
	if first := b.Calls[0].Receipt.Height; first != head.Height+1 {
		return nil, fmt.Errorf("%w: batch starts at height %d, head is %d", ErrInvalidTransition, first, head.Height)
	}
	ex := &executed{content: b}
	var overlay []state.Write
	tip := head
	seen := make(map[id.Hash]bool, len(b.Calls))
	limit := e.opts.Now().Add(maxSkew).UnixMilli()
	for i := range b.Calls {
		call := &b.Calls[i]
		want := &call.Receipt
		switch {
		case want.Timestamp <= tip.Timestamp || (fresh && want.Timestamp > limit):
			return nil, fmt.Errorf("%w: call %d at logical time %d after %d", ErrInvalidTransition, i, want.Timestamp, tip.Timestamp)
		case seen[want.RequestID]:
			return nil, fmt.Errorf("%w: request id repeated in the batch", ErrInvalidTransition)
		case body.Committee.Index(want.Executor) < 0:
			return nil, fmt.Errorf("%w: executor %s is not a member", ErrInvalidTransition, want.Executor)
		case call.Fuel > e.limits.MaxFuel:
			return nil, fmt.Errorf("%w: call %d asks for %d fuel", ErrInvalidTransition, i, call.Fuel)
		}
		seen[want.RequestID] = true
		if fresh {
			if e.decided(want.RequestID) {
				return nil, fmt.Errorf("%w: request id decided before", ErrInvalidTransition)
			}
		}
		in := callInput{height: want.Height, inputHash: id.Sum(call.Input), requestID: want.RequestID, timestamp: want.Timestamp}
		r, res, writes, err := e.run(ctx, p, body, code, overlay, tip, in, call.Input, call.Fuel, want.Executor)
		if err != nil {
			return nil, fmt.Errorf("call %d: %w", i, err)
		}
		if *r != *want {
			return nil, fmt.Errorf("%w: call %d gives receipt %s, the batch names %s", ErrInvalidTransition, i, r.ID(), want.ID())
		}
		overlay = mergeWrites(overlay, writes)
		ex.results = append(ex.results, callResult{writes: writes, output: res.Output, logs: res.Logs})
		tip = Head{Height: r.Height, Root: r.StateRootOut, Timestamp: r.Timestamp}
	}
	return ex, nil
}

// decidedBatch is the r/b/ record of a decided batch, for members catching
// up.
type decidedBatch struct {
	Content     []byte                `cbor:"1,keyasint"`
	Certificate consensus.Certificate `cbor:"2,keyasint"`
}

// Commit applies decided batch h of p: the transitions of its calls above
// the head (a member that applied part of it from the DAG skips those), each
// with its certified receipt, answering the calls this member took from
// clients.
func (a *App) Commit(p id.Program, h uint64, content []byte, cert *consensus.Certificate) error {
	e := a.e
	b, err := decodeBatch(content)
	if err != nil {
		return err
	}
	if b.root() != cert.Ballot.Value || cert.Ballot.Height != h {
		return fmt.Errorf("%w: batch %d is not the certified value", ErrInvalidTransition, h)
	}
	m, err := e.manifest(p)
	if err != nil {
		return err
	}
	c := e.chain(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	head, err := e.headLocked(p, c)
	if err != nil {
		return err
	}
	if head.Batch+1 != h {
		return fmt.Errorf("commit batch %d of %s: at batch %d", h, p, head.Batch+1)
	}
	certified := consensus.CertifiedBatch(b.receipts(), cert)
	skip := 0
	for skip < len(b.Calls) && b.Calls[skip].Receipt.Height <= head.Height {
		skip++
	}
	if skip > 0 && b.Calls[skip-1].Receipt.ID() != head.Receipt {
		return fmt.Errorf("%w: batch %d of %s disagrees with the applied height %d", ErrConflict, h, p, head.Height)
	}
	// Calls applied from the DAG before this decision: their clients here
	// are answered from this member's own execution, else from the record.
	for i := range skip {
		r := &b.Calls[i].Receipt
		pc := e.pending(p).done(r.RequestID)
		if pc == nil || pc.answer == nil {
			continue
		}
		if o, ok := e.executedOutcome(&certified[i]); ok {
			pc.answer <- answer{o: o}
		} else {
			e.answerReplay(p, pc)
		}
	}
	rest := &batchContent{Calls: b.Calls[skip:]}
	// The batch as this member executed it for its vote, unless it has
	// to run again: it did not vote, or applied part of it meanwhile.
	ex := e.takeExecuted(cert.Ballot.Value)
	if (ex == nil || skip > 0) && len(rest.Calls) > 0 {
		code, err := e.loadCode(e.ctx, m.Body.Instrumented)
		if err != nil {
			return err
		}
		if ex, err = e.reexecute(e.ctx, p, &m.Body, code, head, rest, false); err != nil {
			return fmt.Errorf("commit batch %d of %s: %w", h, p, err)
		}
	}
	batch := e.db.NewIndexedBatch()
	defer batch.Close()
	q := e.pending(p)
	var local []*pendingCall
	var afters []func(bool)
	newHead := head
	for i := range rest.Calls {
		r := &rest.Calls[i].Receipt
		res := ex.results[i]
		root, err := e.state.Apply(batch, p, newHead.Root, res.writes)
		if err != nil {
			return err
		}
		if root != r.StateRootOut {
			return fmt.Errorf("%w: batch %d call %d produces root %s", ErrInvalidTransition, h, i, root)
		}
		newHead = Head{Height: r.Height, Root: root, Timestamp: r.Timestamp, Receipt: r.ID(), Batch: h - 1}
		if i == len(rest.Calls)-1 {
			newHead.Batch = h
		}
		t := &Transition{Receipt: certified[skip+i], Writes: res.writes, HasOutput: true, Output: res.output}
		if err := stage(batch, t, res.logs, newHead); err != nil {
			return err
		}
		if err := e.opts.Outbox.StageTransition(batch, t); err != nil {
			return err
		}
		pc := q.done(r.RequestID)
		local = append(local, pc)
		if pc != nil && pc.preCommit != nil {
			after, err := pc.preCommit(batch, &Outcome{Output: res.output, FuelUsed: r.FuelUsed, Logs: res.logs, Receipt: &t.Receipt})
			if err != nil {
				e.log.Warn("pre-commit hook failed", "program", p.String(), "height", r.Height, "err", err)
			} else if after != nil {
				afters = append(afters, after)
			}
		}
	}
	if len(rest.Calls) == 0 {
		newHead.Batch = h
		if err := batch.Set(key(nsHead, p[:]), codec.MustMarshal(&newHead), nil); err != nil {
			return err
		}
	}
	if err := batch.Set(heightKey(nsBatch, p, h), codec.MustMarshal(&decidedBatch{Content: content, Certificate: *cert}), nil); err != nil {
		return err
	}
	err = batch.Commit(pebble.Sync)
	for _, after := range afters {
		after(err == nil)
	}
	if err != nil {
		return fmt.Errorf("commit batch %d of %s: %w", h, p, err)
	}
	c.head = newHead
	for i, pc := range local {
		if pc == nil || pc.answer == nil {
			continue
		}
		res := ex.results[i]
		pc.answer <- answer{o: &Outcome{Output: res.output, FuelUsed: rest.Calls[i].Receipt.FuelUsed, Logs: res.logs, Receipt: &certified[skip+i]}}
	}
	return nil
}

// Decided returns decided batch h of p, for a member catching up.
func (a *App) Decided(p id.Program, h uint64) ([]byte, *consensus.Certificate, bool) {
	var d decidedBatch
	ok, err := decode(a.e.db, heightKey(nsBatch, p, h), &d)
	if err != nil || !ok {
		return nil, nil, false
	}
	return d.Content, &d.Certificate, true
}

// decided reports whether request rid has a transition here (a read
// error counts as not decided: the check is repeated on commit).
func (e *Engine) decided(rid id.Hash) bool {
	_, ok, _ := kv.Get(e.db, key(nsByReq, rid[:]))
	return ok
}

// answerReplay answers a queued call whose request id was decided already.
func (e *Engine) answerReplay(p id.Program, pc *pendingCall) {
	if pc == nil || pc.answer == nil {
		return
	}
	o, _, err := e.replay(p, pc.RequestID, id.Sum(pc.Input))
	pc.answer <- answer{o: o, err: err}
}

// keepExecuted keeps a batch this member executed until it is decided.
func (e *Engine) keepExecuted(v id.Hash, ex *executed) {
	e.execMu.Lock()
	defer e.execMu.Unlock()
	if len(e.executed) >= maxExecuted {
		clear(e.executed)
	}
	e.executed[v] = ex
}

// executedOutcome is the outcome of the certified call cr as this member
// executed it for its vote on cr's batch, if it did.
func (e *Engine) executedOutcome(cr *consensus.CertifiedReceipt) (*Outcome, bool) {
	e.execMu.Lock()
	defer e.execMu.Unlock()
	ex, i := e.executed[cr.Certificate.Ballot.Value], int(cr.Index)
	if ex == nil || i >= len(ex.results) || ex.content.Calls[i].Receipt.ID() != cr.Receipt.ID() {
		return nil, false
	}
	res := ex.results[i]
	return &Outcome{Output: res.output, FuelUsed: cr.Receipt.FuelUsed, Logs: res.logs, Receipt: cr}, true
}

// takeExecuted returns and forgets the executed batch of value v.
func (e *Engine) takeExecuted(v id.Hash) *executed {
	e.execMu.Lock()
	defer e.execMu.Unlock()
	ex := e.executed[v]
	delete(e.executed, v)
	return ex
}
