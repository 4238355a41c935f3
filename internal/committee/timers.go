package committee

import (
	"container/heap"
	"sync"
	"time"

	"github.com/onvm-network/onvm/internal/bft"
	"github.com/onvm-network/onvm/internal/id"
)

// timer is a wake-up of one instance: a machine timeout, or (step 0) the
// instance's resend tick.
type timer struct {
	at      time.Time
	program id.Program
	step    bft.Step
	height  uint64
	round   int
	seq     uint64
}

// timers is one heap of wake-ups for every instance, served by one
// goroutine: an idle program has no entry, so it costs nothing.
type timers struct {
	mu   sync.Mutex
	h    timerHeap
	seq  uint64
	kick chan struct{}
}

func newTimers() *timers { return &timers{kick: make(chan struct{}, 1)} }

func (t *timers) add(tm timer) {
	t.mu.Lock()
	t.seq++
	tm.seq = t.seq
	heap.Push(&t.h, tm)
	first := t.h[0].seq == tm.seq
	t.mu.Unlock()
	if first {
		select {
		case t.kick <- struct{}{}:
		default:
		}
	}
}

// due pops the timers due at now and returns the wait until the next one
// (−1: none).
func (t *timers) due(now time.Time) ([]timer, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []timer
	for len(t.h) > 0 && !t.h[0].at.After(now) {
		out = append(out, heap.Pop(&t.h).(timer))
	}
	if len(t.h) == 0 {
		return out, -1
	}
	return out, t.h[0].at.Sub(now)
}

// len returns the number of pending timers.
func (t *timers) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.h)
}

type timerHeap []timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
