package replica

import (
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/program"
	"github.com/onvm-network/onvm/internal/state"
)

// transitionHandler applies transition operations: finalized elsewhere,
// verified against the program's committee and applied without
// re-executing, strictly in height order, only onto the root they start
// from (chain.ApplyFinalized).
type transitionHandler struct{ r *Replica }

// Apply applies a transition of an installed program through
// chain.ApplyFinalized, which verifies it against the catalog's manifest,
// or keeps it (n/w/) while the program's code is still being fetched,
// after verifying its aggregate signature against the committee of any
// manifest of the program the DAG delivered. The manifest travels before
// any honest transition of its program (the executor saw it, so it is in
// the vertex's causal past or earlier in the same vertex); a transition
// with no manifest yet is kept too rather than refused, so that the
// verdict never depends on the order in which a node applied concurrent
// vertices: it is verified when the manifest arrives. One that does not
// verify is refused (dag.ErrInvalidOp) and its author blamed.
func (h transitionHandler) Apply(ctx context.Context, o dag.Op, v *dag.Vertex) error {
	r := h.r
	t, err := op.DecodeTransition(o)
	if err != nil {
		return fmt.Errorf("%w: %w", dag.ErrInvalidOp, err) // validated before acceptance: cannot happen
	}
	rc := &t.Receipt.Receipt
	installed, err := r.inCatalog(rc.Program)
	if err != nil {
		return err
	}
	if !installed {
		ms, err := r.manifestsSeen(rc.Program)
		if err != nil {
			return err
		}
		if len(ms) > 0 {
			if err := verifyAny(t, ms); err != nil {
				r.m.transitions.WithLabelValues("invalid").Inc()
				return fmt.Errorf("%w: %w", dag.ErrInvalidOp, err)
			}
		}
		r.progMu.Lock()
		if installed, err = r.inCatalog(rc.Program); err == nil && !installed {
			err = r.wait(rc, o.Body)
		}
		r.progMu.Unlock()
		if err != nil || !installed {
			return err
		}
		// Installed meanwhile: apply it now.
	}
	return r.applyTransition(ctx, t, o.Body)
}

// inCatalog reports whether p's manifest is in the catalog.
func (r *Replica) inCatalog(p id.Program) (bool, error) {
	_, err := r.chain.Catalog().Get(p)
	if errors.Is(err, program.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// verifyAny checks t's aggregate signature against the committee of any
// of ms.
func verifyAny(t *op.Transition, ms []*program.Manifest) error {
	rc := &t.Receipt.Receipt
	var errs []error
	for _, m := range ms {
		err := t.Receipt.Verify(&m.Body.Committee)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return fmt.Errorf("transition of %s height %d: %w", rc.Program, rc.Height, errors.Join(errs...))
}

// applyTransition applies t and counts the result. A transition that
// cannot be applied now for a local reason waits (n/w/) for the next
// sweep; one that does not verify is counted and refused with an error
// wrapping dag.ErrInvalidOp (the DAG keeps it as evidence). Any other
// error means the node is closing.
func (r *Replica) applyTransition(ctx context.Context, t *op.Transition, body []byte) error {
	rc := &t.Receipt.Receipt
	st, err := r.chain.ApplyFinalized(ctx, toChain(t))
	switch {
	case err == nil && st.Duplicate:
		r.m.transitions.WithLabelValues("duplicate").Inc()
	case err == nil && st.Buffered:
		r.m.transitions.WithLabelValues("buffered").Inc()
	case err == nil:
		r.m.transitions.WithLabelValues("applied").Add(float64(st.Applied))
	case errors.Is(err, chain.ErrClosed), ctx.Err() != nil:
		return err
	case errors.Is(err, chain.ErrInvalidTransition):
		r.m.transitions.WithLabelValues("invalid").Inc()
		return fmt.Errorf("%w: %w", dag.ErrInvalidOp, err)
	case errors.Is(err, chain.ErrConflict):
		r.m.transitions.WithLabelValues("conflict").Inc()
		r.log.Error("conflicting transition", "program", rc.Program.String(), "height", rc.Height, "err", err)
	default:
		// Too far ahead, a disk error, a manifest gone: retried later.
		reason := "retry"
		if errors.Is(err, chain.ErrTooFarAhead) {
			reason = "too_far_ahead"
		}
		r.m.transitions.WithLabelValues(reason).Inc()
		r.log.Warn("replicated transition deferred", "program", rc.Program.String(), "height", rc.Height, "err", err)
		return r.wait(rc, body)
	}
	return nil
}

// wait stores a transition until it can be applied.
func (r *Replica) wait(x *consensus.Receipt, body []byte) error {
	rid := x.ID()
	if err := r.db.Set(programKey(pfxWaiting, x.Program, be64(x.Height), rid[:]), body, pebble.NoSync); err != nil {
		return fmt.Errorf("keep transition of %s height %d: %w", x.Program, x.Height, err)
	}
	r.m.transitions.WithLabelValues("waiting").Inc()
	return nil
}

// drainWaiting applies the transitions of p that waited, in height order.
// progMu is held.
func (r *Replica) drainWaiting(ctx context.Context, p id.Program) error {
	type waiting struct {
		k, body []byte
	}
	var ws []waiting
	if err := scan(r.db, programKey(pfxWaiting, p), func(k, v []byte) (bool, error) {
		ws = append(ws, waiting{k, v})
		return true, nil
	}); err != nil {
		return err
	}
	for _, w := range ws {
		if err := r.db.Delete(w.k, pebble.NoSync); err != nil {
			return err
		}
		t, err := op.DecodeTransition(dag.Op{Kind: op.KindTransition, Body: w.body})
		if err != nil {
			continue
		}
		switch err := r.applyTransition(ctx, t, w.body); {
		case errors.Is(err, dag.ErrInvalidOp):
			r.log.Warn("kept transition refused", "program", p.String(), "height", t.Receipt.Receipt.Height, "err", err)
		case err != nil:
			return err
		}
	}
	return nil
}

// sweepWaiting retries the waiting transitions of programs in the catalog
// and drops those of programs the DAG delivered no manifest of: every
// honest transition follows its manifest (in its vertex's causal past or
// earlier in the same vertex), so such a transition was published out of
// order by a faulty author, and the honest executor publishes it again.
// This bounds what a faulty author can make a node keep.
func (r *Replica) sweepWaiting() error {
	var ps []id.Program
	var last id.Program
	if err := scan(r.db, []byte(pfxWaiting), func(k, _ []byte) (bool, error) {
		p := id.Program(k[len(pfxWaiting) : len(pfxWaiting)+id.Size])
		if p != last {
			ps, last = append(ps, p), p
		}
		return true, nil
	}); err != nil {
		return err
	}
	for _, p := range ps {
		r.progMu.Lock()
		var err error
		if _, cerr := r.chain.Catalog().Get(p); cerr == nil {
			err = r.drainWaiting(r.ctx, p)
		} else if ms, serr := r.manifestsSeen(p); serr != nil {
			err = serr
		} else if len(ms) == 0 {
			err = r.dropWaiting(p)
		}
		r.progMu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// dropWaiting deletes the waiting transitions of p. progMu is held.
func (r *Replica) dropWaiting(p id.Program) error {
	lo := programKey(pfxWaiting, p)
	hi := upper(lo)
	n := 0
	if err := scan(r.db, lo, func(_, _ []byte) (bool, error) { n++; return true, nil }); err != nil {
		return err
	}
	if err := r.db.DeleteRange(lo, hi, pebble.NoSync); err != nil {
		return fmt.Errorf("drop transitions of %s: %w", p, err)
	}
	r.m.transitions.WithLabelValues("orphan").Add(float64(n))
	r.log.Warn("dropped transitions of a program with no manifest", "program", p.String(), "count", n)
	return nil
}

// manifestsSeen returns every valid manifest of p the DAG has delivered:
// the catalog's, and those awaiting or refused for their code. A
// transition's check must not depend on how far code verification got.
func (r *Replica) manifestsSeen(p id.Program) ([]*program.Manifest, error) {
	var out []*program.Manifest
	if m, err := r.chain.Catalog().Get(p); err == nil {
		out = append(out, m)
	} else if !errors.Is(err, program.ErrNotFound) {
		return nil, err
	}
	err := scan(r.db, programKey(pfxSeen, p), func(_, v []byte) (bool, error) {
		m, err := program.Decode(v)
		if err != nil {
			return false, err
		}
		out = append(out, m)
		return true, nil
	})
	return out, err
}

// toChain converts a replicated transition to the chain's form.
func toChain(t *op.Transition) *chain.Transition {
	ws := make([]state.Write, len(t.Writes))
	for i, w := range t.Writes {
		ws[i] = state.Write{Key: w.Key, Value: w.Value, Delete: w.Delete}
	}
	return &chain.Transition{Receipt: t.Receipt, Writes: ws}
}

// toOp converts a committed transition to its operation body (the output
// does not travel: its hash is in the receipt).
func toOp(t *chain.Transition) op.Transition {
	ws := make([]op.Write, len(t.Writes))
	for i, w := range t.Writes {
		v := w.Value
		if w.Delete {
			v = nil
		}
		ws[i] = op.Write{Key: w.Key, Value: v, Delete: w.Delete}
	}
	return op.Transition{Receipt: t.Receipt, Writes: ws}
}
