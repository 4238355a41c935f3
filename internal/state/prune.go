package state

import (
	"bytes"
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/kv"
)

// pruneChunk is how many deletions Prune commits at a time.
const pruneChunk = 10_000

// Prune deletes the records of p's tree that no root in keep (nor the
// current root, always kept) reaches, and forgets every other root of p, so
// that Prove at those roots fails with ErrUnknownRoot. It returns the
// number of records deleted.
//
// It marks what the kept roots reach (memory: about 50 bytes per reachable
// record, two per key) and sweeps the rest, committing its deletions in
// chunks: interrupted, it has only removed unreachable records. The caller
// must not Apply to p while Prune runs (a transition can re-create, under
// the same content address, a record the sweep is about to delete); other
// programs are unaffected.
func (s *Store) Prune(ctx context.Context, p id.Program, keep []id.Hash) (int, error) {
	removed, err := s.prune(ctx, p, keep)
	if err != nil {
		return removed, fmt.Errorf("prune state %s: %w", p, err)
	}
	return removed, nil
}

func (s *Store) prune(ctx context.Context, p id.Program, keep []id.Hash) (int, error) {
	current, _, err := readHead(s.db, p)
	if err != nil {
		return 0, err
	}
	roots := map[id.Hash]bool{current: true}
	for _, r := range keep {
		roots[r] = true
	}
	live := map[id.Hash]struct{}{}
	for r := range roots {
		if err := s.mark(ctx, p, r, live); err != nil {
			return 0, err
		}
	}
	removed := 0
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	flush := func() error {
		if err := b.Commit(pebble.NoSync); err != nil {
			return err
		}
		b.Reset()
		return nil
	}
	for _, ns := range []string{nsNode, nsLeaf, nsRoot} {
		prefix := progKey(ns, p, nil)
		it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: kv.PrefixEnd(prefix)})
		if err != nil {
			return removed, err
		}
		for ok := it.First(); ok; ok = it.Next() {
			h := id.Hash(it.Key()[len(prefix):])
			var dead bool
			if ns == nsRoot {
				dead = !roots[h]
			} else {
				_, reached := live[h]
				dead = !reached
			}
			if !dead {
				continue
			}
			if err := b.Delete(bytes.Clone(it.Key()), nil); err != nil {
				_ = it.Close()
				return removed, err
			}
			removed++
			if b.Count() >= pruneChunk {
				if err := ctx.Err(); err != nil {
					_ = it.Close()
					return removed, err
				}
				if err := flush(); err != nil {
					_ = it.Close()
					return removed, err
				}
			}
		}
		if err := it.Close(); err != nil {
			return removed, err
		}
	}
	return removed, flush()
}

// mark adds to live the tree records and leaves reachable from root.
// Subtrees already marked (shared with another kept root) are skipped.
func (s *Store) mark(ctx context.Context, p id.Program, root id.Hash, live map[id.Hash]struct{}) error {
	if root == EmptyRoot {
		return nil
	}
	if _, ok, err := kv.Get(s.db, rootKey(p, &root)); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("keep root %s: %w", root, ErrUnknownRoot)
	}
	stack := []id.Hash{root}
	for len(stack) > 0 {
		if len(live)%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		h := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if _, seen := live[h]; seen {
			continue
		}
		rec, err := s.load(s.db, p, &h)
		if err != nil {
			return err
		}
		live[h] = struct{}{}
		if rec.leaf() { // a tree of one key
			live[rec.lh] = struct{}{}
			continue
		}
		for _, c := range rec.kids {
			if c.leaf {
				live[c.lh] = struct{}{}
			} else {
				stack = append(stack, c.h)
			}
		}
	}
	return nil
}
