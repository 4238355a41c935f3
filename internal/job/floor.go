package job

import (
	"math"
	"sync"
)

// floor is where a single consumer of a time-ordered pebble queue (the
// dispatcher's j/q/, the copier's j/w/) starts looking: not at the start
// of the prefix, so it never steps over the tombstones of the keys it
// already consumed — the cost of a look stays proportional to what is
// live, not to the queue's history.
//
// Producers commit keys at any time, possibly below the floor (a retry
// due sooner than a job already taken), and report each key's time once
// committed. The consumer takes a snapshot before opening its iterator and
// raises the floor to the last key it consumed; the raise is capped by
// every key reported since the snapshot, which its iterator may not have
// seen. A key committed before a snapshot but reported after it is at
// worst found one look later: its report lowers the floor.
type floor struct {
	mu  sync.Mutex
	at  int64
	low int64 // lowest time reported since the last snapshot
}

// report records that a key at time t was committed.
func (f *floor) report(t int64) {
	f.mu.Lock()
	f.at = min(f.at, t)
	f.low = min(f.low, t)
	f.mu.Unlock()
}

// snapshot returns where to start; call it before opening the iterator.
func (f *floor) snapshot() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.low = math.MaxInt64
	return f.at
}

// raise moves the floor up to t, the time of a key just consumed.
func (f *floor) raise(t int64) {
	f.mu.Lock()
	if t = min(t, f.low); t > f.at {
		f.at = t
	}
	f.mu.Unlock()
}
