package job

import "time"

// Backoff is the retry policy: the delay before retry n (n = 1 for the
// first retry) is min(Max, Base·2^(n−1)), of which the upper half is
// jittered ("equal jitter": d/2 + u·d/2 for u uniform in [0,1)), so that
// jobs failing together do not retry together yet never retry sooner than
// half the nominal delay. It is measured from the failure that caused it
// (the original measured it from the job's creation, which made every
// retry of an old job immediate).
type Backoff struct {
	Base time.Duration // default 1s
	Max  time.Duration // default 5 min
}

// Default retry policy.
const (
	DefaultRetryBase = time.Second
	DefaultRetryMax  = 5 * time.Minute
)

func (b Backoff) withDefaults() Backoff {
	if b.Base <= 0 {
		b.Base = DefaultRetryBase
	}
	if b.Max <= 0 {
		b.Max = DefaultRetryMax
	}
	if b.Max < b.Base {
		b.Max = b.Base
	}
	return b
}

// Delay returns the delay before retry n with jitter u in [0,1).
func (b Backoff) Delay(n uint32, u float64) time.Duration {
	b = b.withDefaults()
	d := b.Base
	for i := uint32(1); i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	u = min(max(u, 0), 1)
	half := d / 2
	return half + time.Duration(u*float64(d-half))
}
