package chain

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/kv"
	"github.com/onvm-network/onvm/internal/program"
	"github.com/onvm-network/onvm/internal/state"
)

// ApplyStatus says what ApplyFinalized did.
type ApplyStatus struct {
	Head      Head // the program's head afterwards
	Applied   int  // transitions applied: this one and buffered successors
	Buffered  bool // stored until the heights before it arrive
	Duplicate bool // already applied (or already buffered); nothing changed
}

// ApplyFinalized applies a transition finalized by the program's committee
// — typically received from a peer — without executing anything. It
// verifies the aggregate signature against the committee in the program's
// manifest (ErrNotFound when this node has no manifest yet: fetch it and
// retry), that the writes reproduce the receipt's write digest, and, when
// the transition is next in height order, that its state root in is the
// local root and that its writes produce its state root out. A transition
// ahead of the local head is stored durably, at most MaxAhead heights
// ahead, and applied once its predecessors are; one at an applied height
// must be the same transition (else ErrConflict).
func (e *Engine) ApplyFinalized(ctx context.Context, t *Transition) (ApplyStatus, error) {
	if e.closed.Load() {
		return ApplyStatus{}, ErrClosed
	}
	r := &t.Receipt.Receipt
	p, h := r.Program, r.Height
	m, err := e.manifest(p)
	if err != nil {
		return ApplyStatus{}, err
	}
	if err := verifyTransition(m, t); err != nil {
		return ApplyStatus{}, fmt.Errorf("apply %s height %d: %w", p, h, err)
	}
	c := e.chain(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	head, err := e.headLocked(p, c)
	if err != nil {
		return ApplyStatus{}, err
	}
	rid := r.ID()
	switch {
	case h <= head.Height:
		have, err := e.record(p, h, false)
		if err != nil {
			return ApplyStatus{}, err
		}
		if have.Receipt.Receipt.ID() != rid {
			return ApplyStatus{Head: head}, fmt.Errorf("apply %s height %d: %w: have receipt %s, got %s", p, h, ErrConflict, have.Receipt.Receipt.ID(), rid)
		}
		return ApplyStatus{Head: head, Duplicate: true}, nil
	case h > head.Height+1:
		return e.buffer(p, head, t)
	}
	if err := e.applyNext(p, c, t); err != nil {
		return ApplyStatus{Head: c.head}, fmt.Errorf("apply %s height %d: %w", p, h, err)
	}
	st := ApplyStatus{Applied: 1}
	st.Applied += e.drain(ctx, p, c)
	st.Head = c.head
	return st, nil
}

// verifyTransition checks what does not depend on local state: the
// aggregate against the manifest's committee, the code and environment the
// receipt names, the writes' order and digest, and the output's hash.
func verifyTransition(m *program.Manifest, t *Transition) error {
	r := &t.Receipt.Receipt
	if err := t.Receipt.Verify(&m.Body.Committee); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidTransition, err)
	}
	if r.CodeHash != m.Body.Instrumented.Hash() || r.EnvHash != m.Body.EnvHash {
		return fmt.Errorf("%w: receipt names other code or environment than the manifest", ErrInvalidTransition)
	}
	for i := 1; i < len(t.Writes); i++ {
		if bytes.Compare(t.Writes[i-1].Key, t.Writes[i].Key) >= 0 {
			return fmt.Errorf("%w: writes not in strictly ascending key order at %d", ErrInvalidTransition, i)
		}
	}
	if state.WriteDigest(t.Writes) != r.WriteDigest {
		return fmt.Errorf("%w: writes do not match the write digest", ErrInvalidTransition)
	}
	if t.HasOutput && id.Sum(t.Output) != r.OutputHash {
		return fmt.Errorf("%w: output does not match the output hash", ErrInvalidTransition)
	}
	return nil
}

// applyNext applies t, the transition at c.head.Height+1; c.mu is held.
func (e *Engine) applyNext(p id.Program, c *programChain, t *Transition) error {
	r := &t.Receipt.Receipt
	head := c.head
	if r.StateRootIn != head.Root {
		return fmt.Errorf("%w: state root in %s, local root %s", ErrInvalidTransition, r.StateRootIn, head.Root)
	}
	b := e.db.NewBatch()
	defer b.Close()
	root, err := e.state.Apply(b, p, head.Root, t.Writes)
	if err != nil {
		return err
	}
	if root != r.StateRootOut {
		return fmt.Errorf("%w: writes produce root %s, receipt says %s", ErrInvalidTransition, root, r.StateRootOut)
	}
	// A transition that ends its batch completes that batch of the
	// committee's agreement.
	q := &t.Receipt
	newHead := Head{Height: r.Height, Root: root, Timestamp: r.Timestamp, Receipt: r.ID(), Batch: q.Certificate.Ballot.Height - 1}
	if q.Index == q.Count-1 {
		newHead.Batch = q.Certificate.Ballot.Height
	}
	if err := stage(b, t, nil, newHead); err != nil {
		return err
	}
	if err := b.Delete(heightKey(nsFuture, p, r.Height), nil); err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	c.head = newHead
	e.answerApplied(p, t)
	return nil
}

// answerApplied answers a client of this member waiting for the call t
// decided, when t arrives from another member before this one's own
// decision: with the output this member computed for its vote, or the one
// t carries. Without either the call stays queued, and Commit answers it.
func (e *Engine) answerApplied(p id.Program, t *Transition) {
	q, ok := e.queues.Load(p)
	if !ok {
		return
	}
	r := &t.Receipt.Receipt
	pc := q.(*pendingCalls).peek(r.RequestID)
	if pc == nil || pc.answer == nil {
		return
	}
	o, ok := e.executedOutcome(&t.Receipt)
	if !ok && t.HasOutput {
		o, ok = &Outcome{Output: t.Output, FuelUsed: r.FuelUsed, Receipt: &t.Receipt}, true
	}
	if !ok || q.(*pendingCalls).done(r.RequestID) != pc {
		return
	}
	pc.answer <- answer{o: o}
}

// buffer stores t, which is ahead of head, until its predecessors arrive.
func (e *Engine) buffer(p id.Program, head Head, t *Transition) (ApplyStatus, error) {
	r := &t.Receipt.Receipt
	if r.Height-head.Height > e.opts.MaxAhead {
		return ApplyStatus{Head: head}, fmt.Errorf("apply %s height %d: %w: local head %d, window %d", p, r.Height, ErrTooFarAhead, head.Height, e.opts.MaxAhead)
	}
	k := heightKey(nsFuture, p, r.Height)
	if old, ok, err := kv.Get(e.db, k); err != nil {
		return ApplyStatus{}, err
	} else if ok {
		ot, err := DecodeTransition(old)
		if err == nil && ot.Receipt.Receipt.ID() == r.ID() {
			return ApplyStatus{Head: head, Buffered: true, Duplicate: true}, nil
		}
		if err == nil {
			return ApplyStatus{Head: head}, fmt.Errorf("apply %s height %d: %w: another transition is buffered", p, r.Height, ErrConflict)
		}
	}
	if err := e.db.Set(k, t.Encode(), pebble.Sync); err != nil {
		return ApplyStatus{}, fmt.Errorf("buffer %s height %d: %w", p, r.Height, err)
	}
	return ApplyStatus{Head: head, Buffered: true}, nil
}

// Buffered counts the finalized transitions waiting for their
// predecessors, over every program (at most MaxAhead each), and names the
// program and height of the first.
func (e *Engine) Buffered() (n int, first id.Program, height uint64, err error) {
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: []byte(nsFuture), UpperBound: []byte("r/f0")}) // '0' follows '/'
	if err != nil {
		return 0, id.Program{}, 0, err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		if k := it.Key(); n == 0 && len(k) == len(nsFuture)+id.Size+8 {
			first, height = id.Program(k[len(nsFuture):len(nsFuture)+id.Size]), beUint(k[len(k)-8:])
		}
		n++
	}
	return n, first, height, it.Error()
}

// drain applies buffered transitions that are now next; c.mu is held. A
// buffered transition that does not apply is dropped (a peer will send the
// right one) and draining stops.
func (e *Engine) drain(ctx context.Context, p id.Program, c *programChain) int {
	n := 0
	for ctx.Err() == nil {
		h := c.head.Height + 1
		k := heightKey(nsFuture, p, h)
		b, ok, err := kv.Get(e.db, k)
		if err != nil || !ok {
			return n
		}
		t, err := DecodeTransition(b)
		if err == nil {
			err = e.applyNext(p, c, t)
		}
		if err != nil {
			e.log.Warn("buffered transition dropped", "program", p.String(), "height", h, "err", err)
			if derr := e.db.Delete(k, pebble.Sync); derr != nil {
				e.log.Error("drop buffered transition", "program", p.String(), "height", h, "err", errors.Join(err, derr))
			}
			return n
		}
		n++
	}
	return n
}
