package dag

import (
	"github.com/onvm-network/onvm/internal/id"
)

// Source names where a vertex came from: the sending peer's id as a
// string, or Local for the node's own vertices. The pending buffer is
// bounded per source so that one peer cannot crowd out the others.
type Source string

// Local is the Source of the node's own vertices.
const Local Source = ""

// pending holds vertices that passed the stateless checks but wait for
// parents not yet accepted. It is bounded per source and in total; when a
// source's share is full its oldest vertex is dropped (the sync protocol
// fetches it again later). It is not safe for concurrent use.
type pending struct {
	perSource, total int

	entries  map[id.Hash]*pendingEntry
	waiters  map[id.Hash][]id.Hash // missing parent → vertices waiting for it
	bySource map[Source][]id.Hash  // arrival order, with stale ids skipped lazily
	count    map[Source]int
}

type pendingEntry struct {
	v       *Vertex
	src     Source
	missing int // parents not yet accepted
}

func newPending(perSource, total int) *pending {
	return &pending{
		perSource: perSource, total: total,
		entries:  make(map[id.Hash]*pendingEntry),
		waiters:  make(map[id.Hash][]id.Hash),
		bySource: make(map[Source][]id.Hash),
		count:    make(map[Source]int),
	}
}

func (p *pending) len() int { return len(p.entries) }

func (p *pending) has(h id.Hash) bool { _, ok := p.entries[h]; return ok }

// add buffers v, which waits for the parents in missing. It returns the
// vertices evicted to make room.
func (p *pending) add(v *Vertex, src Source, missing []id.Hash) (evicted []*pendingEntry) {
	for p.count[src] >= p.perSource || len(p.entries) >= p.total {
		victim := src
		if p.count[src] == 0 {
			victim = p.largestSource()
		}
		e := p.evictOldest(victim)
		if e == nil {
			break
		}
		evicted = append(evicted, e)
	}
	h := v.ID()
	p.entries[h] = &pendingEntry{v: v, src: src, missing: len(missing)}
	for _, m := range missing {
		p.waiters[m] = append(p.waiters[m], h)
	}
	q := append(p.bySource[src], h)
	p.count[src]++
	if len(q) > 2*p.count[src]+64 { // drop ids accepted or removed since
		live := q[:0]
		for _, x := range q {
			if e, ok := p.entries[x]; ok && e.src == src {
				live = append(live, x)
			}
		}
		q = live
	}
	p.bySource[src] = q
	return evicted
}

func (p *pending) largestSource() Source {
	var best Source
	n := -1
	for s, c := range p.count {
		if c > n {
			best, n = s, c
		}
	}
	return best
}

func (p *pending) evictOldest(src Source) *pendingEntry {
	q := p.bySource[src]
	for len(q) > 0 {
		h := q[0]
		q = q[1:]
		if e, ok := p.entries[h]; ok && e.src == src {
			p.bySource[src] = q
			p.remove(h)
			return e
		}
	}
	delete(p.bySource, src)
	return nil
}

// remove drops h from the buffer and from the waiter lists of its parents.
func (p *pending) remove(h id.Hash) *pendingEntry {
	e, ok := p.entries[h]
	if !ok {
		return nil
	}
	delete(p.entries, h)
	p.count[e.src]--
	if p.count[e.src] <= 0 {
		delete(p.count, e.src)
		delete(p.bySource, e.src)
	}
	for _, parent := range e.v.Parents {
		ws := p.waiters[parent]
		for i, w := range ws {
			if w == h {
				ws = append(ws[:i], ws[i+1:]...)
				break
			}
		}
		if len(ws) == 0 {
			delete(p.waiters, parent)
		} else {
			p.waiters[parent] = ws
		}
	}
	return e
}

// accepted records that h was accepted and returns the buffered vertices
// that no longer miss any parent, removed from the buffer.
func (p *pending) accepted(h id.Hash) []*pendingEntry {
	ws := p.waiters[h]
	delete(p.waiters, h)
	var ready []*pendingEntry
	for _, w := range ws {
		e, ok := p.entries[w]
		if !ok {
			continue
		}
		e.missing--
		if e.missing <= 0 {
			p.remove(w)
			ready = append(ready, e)
		}
	}
	return ready
}

// rejected records that h was rejected and returns the buffered vertices
// that descend from it (transitively), removed from the buffer.
func (p *pending) rejected(h id.Hash) []*pendingEntry {
	var out []*pendingEntry
	queue := []id.Hash{h}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		ws := p.waiters[x]
		delete(p.waiters, x)
		for _, w := range ws {
			if e := p.remove(w); e != nil {
				out = append(out, e)
				queue = append(queue, w)
			}
		}
	}
	return out
}

// missing returns up to limit parent ids that buffered vertices wait for
// and that are not themselves buffered: what the network should fetch.
func (p *pending) missing(limit int) []id.Hash {
	var out []id.Hash
	for h := range p.waiters {
		if len(out) >= limit {
			break
		}
		if _, buffered := p.entries[h]; !buffered {
			out = append(out, h)
		}
	}
	return out
}
