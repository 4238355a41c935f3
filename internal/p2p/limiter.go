package p2p

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"
)

// peerLimiter holds a token bucket and an in-flight count per peer, so
// that one peer cannot monopolise a service. Idle peers are forgotten when
// the table grows.
type peerLimiter struct {
	r        rate.Limit
	burst    int
	inflight int // per peer

	mu sync.Mutex
	m  map[peer.ID]*peerLimit
}

type peerLimit struct {
	lim    *rate.Limiter
	active int
	seen   time.Time
}

const maxLimitedPeers = 4096

func newPeerLimiter(r rate.Limit, burst, inflight int) *peerLimiter {
	return &peerLimiter{r: r, burst: burst, inflight: inflight, m: make(map[peer.ID]*peerLimit)}
}

func (l *peerLimiter) entry(p peer.ID, now time.Time) *peerLimit {
	e := l.m[p]
	if e == nil {
		if len(l.m) >= maxLimitedPeers {
			for q, x := range l.m {
				if x.active == 0 && now.Sub(x.seen) > time.Minute {
					delete(l.m, q)
				}
			}
		}
		e = &peerLimit{lim: rate.NewLimiter(l.r, l.burst)}
		l.m[p] = e
	}
	e.seen = now
	return e
}

// allow spends one token of p's bucket.
func (l *peerLimiter) allow(p peer.ID) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	return l.entry(p, now).lim.AllowN(now, 1)
}

// acquire spends a token and takes one of p's in-flight slots; release
// must follow when it returns true.
func (l *peerLimiter) acquire(p peer.ID) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	e := l.entry(p, now)
	if e.active >= l.inflight || !e.lim.AllowN(now, 1) {
		return false
	}
	e.active++
	return true
}

func (l *peerLimiter) release(p peer.ID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.m[p]; e != nil && e.active > 0 {
		e.active--
	}
}
