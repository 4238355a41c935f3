package replica

import "sync"

// workQueue is a bounded set of pending work items, deduplicated, taken in
// insertion order. A full queue refuses new items (the sweeps find them
// again later); it never grows without bound.
type workQueue[T comparable] struct {
	mu    sync.Mutex
	max   int
	items []T
	in    map[T]bool
	ready chan struct{} // has a token while items is non-empty
}

func newWorkQueue[T comparable](max int) *workQueue[T] {
	return &workQueue[T]{max: max, in: make(map[T]bool), ready: make(chan struct{}, 1)}
}

// add queues x unless it is queued already; false if the queue is full.
func (q *workQueue[T]) add(x T) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.in[x] {
		return true
	}
	if len(q.items) >= q.max {
		return false
	}
	q.items = append(q.items, x)
	q.in[x] = true
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true
}

// take removes and returns the oldest item.
func (q *workQueue[T]) take() (T, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var zero T
	if len(q.items) == 0 {
		return zero, false
	}
	x := q.items[0]
	q.items[0] = zero
	q.items = q.items[1:]
	delete(q.in, x)
	if len(q.items) > 0 {
		select {
		case q.ready <- struct{}{}:
		default:
		}
	}
	return x, true
}

// len returns the number of queued items.
func (q *workQueue[T]) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}
