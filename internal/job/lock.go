package job

import (
	"sync"

	"github.com/onvm-network/onvm/internal/id"
)

// jobLocks serialises the state changes of each job: submit, claim,
// completion (inside the transition's commit), failure and cancel of one
// job happen one at a time. Entries live only while held or awaited.
type jobLocks struct {
	mu sync.Mutex
	m  map[id.Job]*jobLock
}

type jobLock struct {
	mu   sync.Mutex
	refs int
}

// lock locks j and returns its unlock function.
func (l *jobLocks) lock(j id.Job) (unlock func()) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[id.Job]*jobLock{}
	}
	e := l.m[j]
	if e == nil {
		e = &jobLock{}
		l.m[j] = e
	}
	e.refs++
	l.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		l.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(l.m, j)
		}
		l.mu.Unlock()
	}
}

// held returns how many jobs have a lock entry (for tests: it stays
// bounded by the work in flight).
func (l *jobLocks) held() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

// watchers wake long-polls (Service.Wait) when a job's record changes.
// Their number is bounded: beyond maxWatched jobs, Wait returns at once.
type watchers struct {
	mu sync.Mutex
	m  map[id.Job]*watch
	// changes numbers every notify, for Service.Changes.
	changes changeLog
}

type watch struct {
	ch      chan struct{}
	waiters int
}

const maxWatched = 1 << 16

// add returns a channel closed at job j's next change and the function to
// call when done waiting, or nil when too many jobs are watched.
func (w *watchers) add(j id.Job) (<-chan struct{}, func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[id.Job]*watch{}
	}
	e, ok := w.m[j]
	if !ok {
		if len(w.m) >= maxWatched {
			return nil, func() {}
		}
		e = &watch{ch: make(chan struct{})}
		w.m[j] = e
	}
	e.waiters++
	return e.ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if e.waiters--; e.waiters == 0 && w.m[j] == e {
			delete(w.m, j)
		}
	}
}

// notify wakes the watchers of j and logs the change.
func (w *watchers) notify(j id.Job) {
	w.changes.add(j)
	w.mu.Lock()
	defer w.mu.Unlock()
	if e, ok := w.m[j]; ok {
		close(e.ch)
		delete(w.m, j)
	}
}

func (w *watchers) len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.m)
}
