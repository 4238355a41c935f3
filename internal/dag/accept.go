package dag

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/kv"
)

// accept checks v (whose parents are all accepted) against its parents,
// stores it and applies its operations. It returns a non-nil
// rejection if v is invalid, or an error for a local failure.
//
// Durability: the vertex, its indexes and a d/u/ "unapplied" cursor are
// committed in one batch before any operation is applied; the cursor
// advances after each applied operation and is deleted when all are. On
// Open (and before the next insertion after a failed Apply) every cursor
// left behind is re-driven in acceptance order, so an accepted operation is
// never lost; only the operation in flight at a crash can be applied twice,
// which Handler.Apply tolerates by being idempotent.
func (d *DAG) accept(ctx context.Context, v *Vertex, local bool, taken [][]byte) (rejection, err error) {
	h := v.ID()
	if err := d.checkParents(v); err != nil {
		if errors.Is(err, errBadParents) {
			return err, nil
		}
		return nil, err
	}
	handled := false
	for _, op := range v.Ops {
		if d.kinds[op.Kind].Handler != nil {
			handled = true
			break
		}
	}

	// Slots 1..vv[author] are taken (acceptance is per author in order), so
	// only a vertex at or below vv[author] can be a second one in its slot.
	d.view.RLock()
	prevSeq := d.vv[v.Author]
	_, wasFlagged := d.flagged[v.Author]
	d.view.RUnlock()
	var first []byte
	var equivocated bool
	if v.Seq <= prevSeq {
		if first, equivocated, err = kv.Get(d.db, key(pfxAuthor, v.Author[:], be64(v.Seq))); err != nil {
			return nil, fmt.Errorf("accept vertex %s: %w", h, err)
		}
	}
	pos := d.nextPos.Load()
	b := d.db.NewBatch()
	defer func() { _ = b.Close() }()
	set := func(k, val []byte) {
		if err == nil {
			err = b.Set(k, val, nil)
		}
	}
	set(key(pfxVertex, h[:]), v.Raw())
	set(key(pfxMeta, h[:]), meta{author: v.Author, seq: v.Seq, pos: pos}.encode())
	set(key(pfxOrder, be64(pos)), orderRec{id: h, author: v.Author, seq: v.Seq}.encode())
	set(key(pfxHead, h[:]), v.Author[:])
	for _, p := range v.Parents {
		if err == nil {
			err = b.Delete(key(pfxHead, p[:]), nil)
		}
	}
	if v.Seq > prevSeq {
		set(key(pfxClock, v.Author[:]), be64(v.Seq))
	}
	var flag *Flag
	if equivocated {
		set(key(pfxEquiv, v.Author[:], be64(v.Seq), first), nil)
		set(key(pfxEquiv, v.Author[:], be64(v.Seq), h[:]), nil)
		if !wasFlagged {
			flag = &Flag{Author: v.Author, Seq: v.Seq, DetectedAt: d.now().UTC().Truncate(1e6)}
			val := binary.BigEndian.AppendUint64(be64(v.Seq), uint64(flag.DetectedAt.UnixMilli()))
			set(key(pfxFlag, v.Author[:]), val)
		}
	} else {
		set(key(pfxAuthor, v.Author[:], be64(v.Seq)), h[:])
	}
	if handled {
		set(key(pfxUnappl, be64(pos)), be64(0))
	}
	for _, k := range taken { // outbox entries this vertex carries
		if err == nil {
			err = b.Delete(k, nil)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("accept vertex %s: %w", h, err)
	}
	opts := pebble.NoSync
	if local {
		opts = pebble.Sync
	}
	if err := b.Commit(opts); err != nil {
		return nil, fmt.Errorf("accept vertex %s: %w", h, err)
	}
	d.nextPos.Store(pos + 1)
	d.metas.Add(h, meta{author: v.Author, seq: v.Seq, pos: pos})
	d.view.Lock()
	if v.Seq > d.vv[v.Author] {
		d.vv[v.Author] = v.Seq
	}
	for _, p := range v.Parents {
		delete(d.heads, p)
	}
	d.heads[h] = v.Author
	if flag != nil {
		d.flagged[v.Author] = *flag
	}
	d.view.Unlock()
	d.stats.accepted.Add(1)
	if equivocated {
		d.stats.equivocations.Add(1)
		d.log.Warn("equivocation", "author", v.Author.String(), "seq", v.Seq, "vertex", h.String())
	}
	if handled {
		if err := d.applyFrom(ctx, pos, v, 0); err != nil {
			d.backlog = true
			return nil, err
		}
	}
	return nil, nil
}

// checkParents checks the parent rules that need the parents: Parents[0]
// is the author's previous vertex, and no other parent is the author's.
func (d *DAG) checkParents(v *Vertex) error {
	for i, p := range v.Parents {
		m, err := d.metaOf(p)
		if err != nil {
			return fmt.Errorf("accept vertex %s: parent %s: %w", v.ID(), p, err)
		}
		self := i == 0 && v.Seq > 1
		switch {
		case self && (m.author != v.Author || m.seq != v.Seq-1):
			return fmt.Errorf("accept vertex %s: %w: %w: first parent is %s/%d, want %s/%d",
				v.ID(), ErrInvalidVertex, errBadParents, m.author, m.seq, v.Author, v.Seq-1)
		case !self && m.author == v.Author:
			return fmt.Errorf("accept vertex %s: %w: %w: parent %s is the author's own", v.ID(), ErrInvalidVertex, errBadParents, p)
		}
	}
	return nil
}

// applyFrom applies v's operations from index from on, advancing the
// persisted cursor at pos.
func (d *DAG) applyFrom(ctx context.Context, pos uint64, v *Vertex, from int) error {
	k := key(pfxUnappl, be64(pos))
	for i := from; i < len(v.Ops); i++ {
		op := v.Ops[i]
		s := d.kinds[op.Kind]
		if s.Handler == nil {
			continue
		}
		switch err := s.Handler.Apply(ctx, op, v); {
		case err == nil:
			d.stats.applied.Add(1)
		case errors.Is(err, ErrInvalidOp) && ctx.Err() == nil:
			d.refused(v, i, s.Name, err)
		default:
			if ctx.Err() == nil {
				d.stuck(v, i, s.Name, err)
			}
			return fmt.Errorf("apply vertex %s operation %d (%s): %w", v.ID(), i, s.Name, err)
		}
		if i+1 < len(v.Ops) {
			if err := d.db.Set(k, be64(uint64(i+1)), pebble.NoSync); err != nil {
				return fmt.Errorf("apply vertex %s: %w", v.ID(), err)
			}
		}
	}
	if err := d.db.Delete(k, pebble.NoSync); err != nil {
		return fmt.Errorf("apply vertex %s: %w", v.ID(), err)
	}
	return nil
}

// stuckLogEvery spaces the log lines of an operation whose application
// fails: it is retried at every insertion and proposal.
const stuckLogEvery = 10 * time.Second

// stuck logs, at most every stuckLogEvery, operation i of v, whose handler
// failed without refusing it: until it applies, every later insertion and
// proposal waits for it (Stats.Unapplied counts such vertices). mu is held.
func (d *DAG) stuck(v *Vertex, i int, kind string, err error) {
	if now := d.now(); now.Sub(d.stuckLog) >= stuckLogEvery {
		d.stuckLog = now
		d.log.Warn("operation not applied yet; the DAG waits for it", "vertex", v.ID().String(),
			"author", v.Author.String(), "op", i, "kind", kind, "err", err)
	}
}

// refused counts and reports operation i of v, which its handler refused.
func (d *DAG) refused(v *Vertex, i int, kind string, err error) {
	d.stats.refuse(kind)
	d.log.Warn("operation refused", "vertex", v.ID().String(), "author", v.Author.String(), "op", i, "kind", kind, "err", err)
	if d.onInvalidOp != nil {
		d.onInvalidOp(v.Author, kind, err)
	}
}

// redrive applies, in acceptance order, every accepted vertex whose
// operations are not all applied. Called with mu held.
func (d *DAG) redrive(ctx context.Context) error {
	if !d.backlog {
		return nil
	}
	type todo struct {
		pos    uint64
		cursor int
	}
	var list []todo
	err := scan(d.db, pfxUnappl, upper(pfxUnappl), func(k, v []byte) (bool, error) {
		if len(k) != len(pfxUnappl)+8 || len(v) != 8 {
			return false, fmt.Errorf("bad unapplied record")
		}
		list = append(list, todo{binary.BigEndian.Uint64(k[len(pfxUnappl):]), int(binary.BigEndian.Uint64(v))})
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("redrive: %w", err)
	}
	for _, t := range list {
		ov, ok, err := kv.Get(d.db, key(pfxOrder, be64(t.pos)))
		if err != nil || !ok {
			return fmt.Errorf("redrive position %d: order record missing: %v", t.pos, err)
		}
		o, err := decodeOrder(ov)
		if err != nil {
			return fmt.Errorf("redrive position %d: %w", t.pos, err)
		}
		v, err := d.Get(o.id)
		if err != nil {
			return fmt.Errorf("redrive position %d: %w", t.pos, err)
		}
		if err := d.applyFrom(ctx, t.pos, v, t.cursor); err != nil {
			return err
		}
	}
	d.backlog = false
	return nil
}

// Propose makes, signs, stores and applies the node's next vertex carrying
// ops, and returns it for announcement. Operations that fail their
// stateless validator are left out and reported in dropped (the vertex is
// nil if none is left); the others are decided when applied, as on every
// node. The vertex is durable (synced) before Propose returns.
func (d *DAG) Propose(ctx context.Context, ops []Op) (v *Vertex, dropped []error, err error) {
	if d.key == nil {
		return nil, nil, ErrNoKey
	}
	if len(ops) == 0 || len(ops) > MaxOps {
		return nil, nil, fmt.Errorf("propose: %w: %d operations", ErrInvalidVertex, len(ops))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.redrive(ctx); err != nil {
		return nil, nil, err
	}
	var kept []Op
	for _, op := range ops {
		if err := d.checkLocal(op); err != nil {
			dropped = append(dropped, err)
			continue
		}
		kept = append(kept, op)
	}
	if len(kept) == 0 {
		return nil, dropped, nil
	}
	v, err = d.proposeLocked(ctx, kept, nil)
	return v, dropped, err
}

// proposeLocked makes, signs, stores and applies the node's next vertex
// carrying ops, which passed checkLocal; mu is held and the re-drive done.
// taken are outbox keys deleted in the vertex's commit batch.
func (d *DAG) proposeLocked(ctx context.Context, ops []Op, taken [][]byte) (*Vertex, error) {
	d.view.RLock()
	seq := d.vv[d.self] + 1
	others := make([]id.Hash, 0, len(d.heads))
	for h, a := range d.heads {
		if a != d.self {
			others = append(others, h)
		}
	}
	d.view.RUnlock()
	slices.SortFunc(others, func(a, b id.Hash) int { return bytes.Compare(a[:], b[:]) })
	var parents []id.Hash
	if seq > 1 {
		prev, ok, err := kv.Get(d.db, key(pfxAuthor, d.self[:], be64(seq-1)))
		if err != nil || !ok {
			return nil, fmt.Errorf("propose: own vertex %d missing: %v", seq-1, err)
		}
		parents = append(parents, id.Hash(prev))
	}
	parents = append(parents, others[:min(len(others), MaxParents-len(parents))]...)
	if len(parents) == 0 {
		parents = nil
	}
	v := &Vertex{Author: d.self, Seq: seq, Parents: parents, Ops: ops, Timestamp: max(d.now().UnixMilli(), 1)}
	if err := v.Sign(d.key); err != nil {
		return nil, fmt.Errorf("propose: %w", err)
	}
	v.verified = true
	rej, err := d.accept(ctx, v, true, taken)
	if err != nil {
		return nil, fmt.Errorf("propose: %w", err)
	}
	if rej != nil {
		return nil, fmt.Errorf("propose: own vertex rejected: %w", rej)
	}
	return v, nil
}

// checkShape checks what any operation of this node's must be: of a
// registered kind, with a body of 1 to MaxOpSize bytes.
func (d *DAG) checkShape(op Op) (KindSpec, error) { return checkShape(d.kinds, op) }

func checkShape(kinds map[Kind]KindSpec, op Op) (KindSpec, error) {
	s, ok := kinds[op.Kind]
	if !ok {
		return s, fmt.Errorf("propose: %w: %d", ErrUnknownKind, op.Kind)
	}
	if len(op.Body) == 0 || len(op.Body) > MaxOpSize {
		return s, fmt.Errorf("propose %s: %w: body of %d bytes", s.Name, ErrInvalidOp, len(op.Body))
	}
	return s, nil
}

// checkLocal checks op's shape and runs its kind's stateless validator as
// for a vertex of this node's (validators read only the author).
func (d *DAG) checkLocal(op Op) error { return checkLocal(d.kinds, d.self, op) }

func checkLocal(kinds map[Kind]KindSpec, self id.Node, op Op) error {
	s, err := checkShape(kinds, op)
	if err != nil || s.Validate == nil {
		return err
	}
	if err := s.Validate(op, &Vertex{Author: self, Seq: 1, Timestamp: 1}); err != nil {
		return fmt.Errorf("propose %s: %w: %w", s.Name, ErrInvalidOp, err)
	}
	return nil
}
