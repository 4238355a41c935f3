package auth

import "time"

// bucket is one project's token bucket. It refills continuously at
// perMinute/60 tokens a second up to burst, starts full, and a request
// costs one token. burst is at least 1, so any rate of at least one request
// a minute admits requests (the original's capacity 2·r/60 rejected every
// request below 30/min). Not safe for concurrent use; Store locks.
type bucket struct {
	tokens float64
	last   time.Time
}

// limit is a bucket's configuration; a zero perMinute means unlimited.
type limit struct {
	perMinute float64
	burst     float64
}

// newLimit builds a limit; burst 0 means two seconds' worth of the rate,
// at least one request.
func newLimit(perMinute, burst int) limit {
	l := limit{perMinute: float64(perMinute), burst: float64(burst)}
	if l.burst <= 0 {
		l.burst = max(1, float64(perMinute)/30)
	}
	return l
}

// take spends one token at now and reports whether there was one.
func (b *bucket) take(l limit, now time.Time) bool {
	if l.perMinute <= 0 {
		return true
	}
	if b.last.IsZero() {
		b.tokens, b.last = l.burst, now
	}
	if dt := now.Sub(b.last); dt > 0 {
		b.tokens = min(l.burst, b.tokens+dt.Minutes()*l.perMinute)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
