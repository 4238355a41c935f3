package auth

import "container/heap"

// nonceCache remembers one project's used nonces until they expire. It is
// only ever written after a request's MAC verified (never by unauthenticated
// traffic), and it never forgets a nonce before its expiry: when full it
// refuses new requests instead of evicting live entries, so flooding it
// cannot re-enable a replay. Not safe for concurrent use; Store locks.
type nonceCache struct {
	capacity int
	seen     map[string]int64 // nonce → expiry (Unix ms)
	order    expiryHeap
}

func newNonceCache(capacity int) *nonceCache {
	return &nonceCache{capacity: capacity, seen: map[string]int64{}}
}

// add records nonce until expiry (Unix ms) after dropping the entries
// expired at now. It fails with ErrReplay when the nonce is still
// remembered and with ErrNonceCacheFull when capacity live entries exist.
func (c *nonceCache) add(nonce string, expiry, now int64) error {
	c.expire(now)
	if _, ok := c.seen[nonce]; ok {
		return ErrReplay
	}
	if len(c.seen) >= c.capacity {
		return ErrNonceCacheFull
	}
	c.seen[nonce] = expiry
	heap.Push(&c.order, nonceEntry{nonce: nonce, expiry: expiry})
	return nil
}

// expire drops entries whose expiry is at or before now.
func (c *nonceCache) expire(now int64) {
	for len(c.order) > 0 && c.order[0].expiry <= now {
		e := heap.Pop(&c.order).(nonceEntry)
		delete(c.seen, e.nonce)
	}
}

func (c *nonceCache) len() int { return len(c.seen) }

type nonceEntry struct {
	nonce  string
	expiry int64
}

// expiryHeap is a min-heap of entries by expiry.
type expiryHeap []nonceEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expiry < h[j].expiry }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(nonceEntry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
