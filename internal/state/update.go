package state

import (
	"bytes"
	"slices"
	"sort"

	"github.com/onvm-network/onvm/internal/id"
)

// wr is a prepared write: key hash computed, key and value owned.
type wr struct {
	kh         id.Hash
	key, value []byte
	del        bool
}

// prepare copies writes, hashes their keys, sorts them by key hash and keeps
// the last write of each key, which is the order the tree is walked in.
func prepare(writes []Write) []wr {
	size := 0
	for _, w := range writes {
		size += len(w.Key) + len(w.Value)
	}
	// One buffer holds every key and value (never nil, so neither are).
	buf := make([]byte, 0, size)
	own := func(b []byte) []byte {
		start := len(buf)
		buf = append(buf, b...)
		return buf[start:len(buf):len(buf)]
	}
	ws := make([]wr, len(writes))
	for i, w := range writes {
		ws[i] = wr{kh: keyHash(w.Key), key: own(w.Key), del: w.Delete}
		if !w.Delete {
			ws[i].value = own(w.Value)
		}
	}
	slices.SortStableFunc(ws, func(a, b wr) int { return bytes.Compare(a.kh[:], b.kh[:]) })
	out := ws[:0]
	for i := range ws {
		if i+1 < len(ws) && ws[i+1].kh == ws[i].kh {
			continue // a later write of the same key wins
		}
		out = append(out, ws[i])
	}
	return out
}

// tnode is a subtree of the tree being computed. A clean tnode is an
// unchanged stored subtree known by its hash h at depth top (its record is
// loaded only if needed). A dirty tnode is new or has moved to another
// depth: its hash is computed by hashTree and its record written under it.
type tnode struct {
	rec   *record
	top   int
	h     id.Hash
	dirty bool

	// For dirty nodes: the hash is chain(start, from, top, rec.path), where
	// start is the subtree's hash at depth from. startKnown: start is set
	// (a new leaf, or a stored subtree moved up); otherwise from is
	// rec.split and start is internal(left, right) after kids are hashed.
	from       int
	start      id.Hash
	startKnown bool
	hashed     bool
	// kids are a new branch's children (hasKids); unset when the record's
	// children are unchanged (a moved branch), and nil for a child of a
	// new branch that is unchanged (rec.kids holds it already).
	kids    [2]*tnode
	hasKids bool
}

// update computes one program's new tree from its current root and a set of
// prepared writes, loading p's records from s through r.
type update struct {
	s *Store
	r reader
	p id.Program
	// nodes and recs are slabs the update's tnodes and records are cut
	// from: one allocation per slab instead of one each (a slab stays
	// under 32 KiB, the largest size class with a per-P cache).
	nodes []tnode
	recs  []record
}

const slab = 64

// node returns a new tnode holding n.
func (u *update) node(n tnode) *tnode {
	if len(u.nodes) == 0 {
		u.nodes = make([]tnode, slab)
	}
	p := &u.nodes[0]
	u.nodes = u.nodes[1:]
	*p = n
	return p
}

// rec returns a new zero record.
func (u *update) rec() *record {
	if len(u.recs) == 0 {
		u.recs = make([]record, slab)
	}
	r := &u.recs[0]
	u.recs = u.recs[1:]
	return r
}

// run returns the new root node (nil for the empty tree) of root ⊕ ws. The
// result is not hashed yet.
func (u *update) run(root id.Hash, ws []wr) (*tnode, error) {
	var cur *tnode
	if root != EmptyRoot {
		cur = u.node(tnode{top: 0, h: root})
	}
	return u.merge(0, cur, ws)
}

func (u *update) record(n *tnode) (*record, error) {
	if n.rec == nil {
		r := u.rec()
		if err := u.s.loadInto(u.r, u.p, &n.h, r); err != nil {
			return nil, err
		}
		n.rec = r
	}
	return n.rec, nil
}

// merge returns the subtree at depth t that results from applying ws
// (sorted, unique, all sharing the first t bits of cur's keys) to cur (nil
// for an empty subtree). It returns cur itself when nothing changes.
func (u *update) merge(t int, cur *tnode, ws []wr) (*tnode, error) {
	if len(ws) == 0 {
		return cur, nil
	}
	if cur == nil {
		return u.build(t, ws), nil
	}
	rec, err := u.record(cur)
	if err != nil {
		return nil, err
	}
	// Deletes of keys that are not in this subtree change nothing; every
	// other write shares the first d bits with rec.path, d the minimum.
	d, missing := rec.split, 0
	for i := range ws {
		cp := commonPrefix(&ws[i].kh, &rec.path)
		if ws[i].del && cp < rec.split {
			missing++
			continue
		}
		d = min(d, cp)
	}
	if missing == len(ws) {
		return cur, nil
	}
	if missing > 0 {
		live := make([]wr, 0, len(ws)-missing)
		for i := range ws {
			if !ws[i].del || commonPrefix(&ws[i].kh, &rec.path) >= rec.split {
				live = append(live, ws[i])
			}
		}
		ws = live
	}

	if d < rec.split {
		// Some puts leave the shared path at depth d: a new branch there,
		// with the existing subtree pushed down one side of it.
		side := bit(&rec.path, d)
		cut := cutAt(ws, d)
		same, other := ws[:cut], ws[cut:]
		if side == 1 {
			same, other = other, same
		}
		down := u.node(tnode{rec: rec, top: d + 1, dirty: true, from: rec.split})
		if rec.leaf() {
			down.start, down.startKnown = rec.lh, true
		}
		ks, err := u.merge(d+1, down, same)
		if err != nil {
			return nil, err
		}
		ko := u.build(d+1, other)
		if ks == nil {
			return u.moveUp(ko, t)
		}
		kids := [2]*tnode{ks, ko}
		if side == 1 {
			kids = [2]*tnode{ko, ks}
		}
		return u.branch(t, d, prefixOf(&rec.path, d), kids), nil
	}

	if rec.leaf() {
		// Every write left is to this very key, and there is one.
		w := &ws[0]
		if w.del {
			return nil, nil
		}
		n := u.leaf(t, w)
		if n.rec.lh == rec.lh {
			return cur, nil // same value
		}
		return n, nil
	}

	// A child without writes is unchanged: it gets no working node unless
	// it has to move up, and a new branch copies what the old record knew
	// of it (kids[i] stays nil).
	cut := cutAt(ws, rec.split)
	parts := [2][]wr{ws[:cut], ws[cut:]}
	var kids [2]*tnode
	var same [2]bool
	for i := range parts {
		if len(parts[i]) == 0 {
			same[i] = true
			continue
		}
		old := u.childNode(&rec.kids[i], rec.split+1)
		if kids[i], err = u.merge(rec.split+1, old, parts[i]); err != nil {
			return nil, err
		}
		if same[i] = kids[i] == old; same[i] {
			kids[i] = nil
		}
	}
	switch {
	case same[0] && same[1]:
		return cur, nil
	case !same[0] && kids[0] == nil && !same[1] && kids[1] == nil:
		return nil, nil
	case !same[0] && kids[0] == nil:
		return u.moveUp(u.kid(kids[1], &rec.kids[1], rec.split+1), t)
	case !same[1] && kids[1] == nil:
		return u.moveUp(u.kid(kids[0], &rec.kids[0], rec.split+1), t)
	}
	n := u.branch(t, rec.split, rec.path, kids)
	for i := range same {
		if same[i] {
			n.rec.kids[i] = rec.kids[i]
		}
	}
	return n, nil
}

// kid returns n, or when n is nil the working node of the unchanged
// stored child c.
func (u *update) kid(n *tnode, c *child, top int) *tnode {
	if n == nil {
		return u.childNode(c, top)
	}
	return n
}

// build returns the subtree at depth t holding exactly the puts of ws.
func (u *update) build(t int, ws []wr) *tnode {
	puts := 0
	for i := range ws {
		if !ws[i].del {
			puts++
		}
	}
	if puts < len(ws) {
		only := make([]wr, 0, puts)
		for i := range ws {
			if !ws[i].del {
				only = append(only, ws[i])
			}
		}
		ws = only
	}
	return u.buildPuts(t, ws)
}

// buildPuts is build for puts only.
func (u *update) buildPuts(t int, ws []wr) *tnode {
	switch len(ws) {
	case 0:
		return nil
	case 1:
		return u.leaf(t, &ws[0])
	}
	s := commonPrefix(&ws[0].kh, &ws[len(ws)-1].kh)
	cut := cutAt(ws, s)
	kids := [2]*tnode{u.buildPuts(s+1, ws[:cut]), u.buildPuts(s+1, ws[cut:])}
	return u.branch(t, s, prefixOf(&ws[0].kh, s), kids)
}

func (u *update) leaf(t int, w *wr) *tnode {
	rec := u.rec()
	vh := keyHash(w.value)
	*rec = record{split: Depth, path: w.kh, lh: leafHash(&w.kh, &vh), key: w.key, value: w.value}
	return u.node(tnode{rec: rec, top: t, dirty: true, from: Depth, start: rec.lh, startKnown: true})
}

func (u *update) branch(t, split int, path id.Hash, kids [2]*tnode) *tnode {
	rec := u.rec()
	rec.split, rec.path = split, path
	n := u.node(tnode{rec: rec, top: t, dirty: true, from: split})
	n.kids = kids
	n.hasKids = true
	return n
}

// moveUp returns n, a subtree at depth n.top ≥ t whose sibling became
// empty, as the subtree at depth t: same record, longer chain.
func (u *update) moveUp(n *tnode, t int) (*tnode, error) {
	if n == nil || n.top == t {
		return n, nil
	}
	if n.dirty {
		n.top = t
		return n, nil
	}
	rec, err := u.record(n)
	if err != nil {
		return nil, err
	}
	return u.node(tnode{rec: rec, top: t, dirty: true, from: n.top, start: n.h, startKnown: true}), nil
}

// childNode returns the clean working node of a stored child at depth top.
func (u *update) childNode(c *child, top int) *tnode {
	n := u.node(tnode{top: top, h: c.h})
	if c.leaf {
		n.rec = u.rec()
		n.rec.split, n.rec.path, n.rec.lh = Depth, c.kh, c.lh
	}
	return n
}

// setKids records a new branch's children, once they are hashed.
func (n *tnode) setKids() {
	for i, k := range n.kids {
		if k == nil {
			continue // unchanged: copied from the old record
		}
		c := &n.rec.kids[i]
		c.h = k.h
		if c.leaf = k.rec != nil && k.rec.leaf(); c.leaf {
			c.kh, c.lh = k.rec.path, k.rec.lh
		}
	}
}

// cutAt returns the index of the first write whose key hash has bit d set;
// ws is sorted and shares the first d bits.
func cutAt(ws []wr, d int) int {
	return sort.Search(len(ws), func(i int) bool { return bit(&ws[i].kh, d) == 1 })
}

// hashTree computes the hash of every dirty node under n, children first.
func hashTree(n *tnode) {
	if n == nil || !n.dirty || n.hashed {
		return
	}
	if !n.startKnown {
		if n.hasKids {
			hashTree(n.kids[0])
			hashTree(n.kids[1])
			n.setKids()
		}
		n.start = n.rec.baseHash()
	}
	n.h = chain(n.start, n.from, n.top, &n.rec.path)
	n.hashed = true
}

// emitTree stages the records of every dirty node under n (hashed),
// children first: a branch's tree record, a new leaf's key and value, and
// the tree record of a leaf that is the whole tree (root).
func emitTree(n *tnode, root bool, e emitter) error {
	if n == nil || !n.dirty {
		return nil
	}
	if n.rec.leaf() {
		if n.rec.key != nil { // a new leaf; a moved one is known by its parent
			if err := e.leaf(n.rec); err != nil {
				return err
			}
		}
		if !root {
			return nil
		}
	} else if n.hasKids {
		for _, k := range n.kids {
			if err := emitTree(k, false, e); err != nil {
				return err
			}
		}
	}
	return e.node(&n.h, n.rec)
}

// emitter receives the records of a new tree.
type emitter interface {
	node(h *id.Hash, rec *record) error
	leaf(rec *record) error
}
