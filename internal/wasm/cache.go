package wasm

import (
	"container/list"
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/onvm-network/onvm/internal/id"
	"github.com/tetratelabs/wazero"
)

// compiledSizeFactor estimates the memory of a compiled module from the size
// of its wasm: machine code plus wazero's metadata is typically 3–8× the
// bytecode. wazero does not report the real figure; the estimate only has
// to keep the cache's footprint proportional to its budget.
const compiledSizeFactor = 8

// moduleCache keeps compiled modules in memory, least recently used first
// out, bounded by the estimated bytes of the modules (B23). Entries are
// keyed by the code hash. A module is compiled once per hash, by a
// goroutine of the cache's own (build) that waits for one of the compile
// slots, so that a caller can stop waiting without stopping the
// compilation and at most len(slots) modules compile at once. An evicted
// module is closed only after its last user released it.
type moduleCache struct {
	mu      sync.Mutex
	max     int64
	size    int64
	entries map[id.Hash]*cacheEntry
	lru     list.List // of *cacheEntry, most recently used at the front
	compile compileFunc
	slots   chan struct{}  // a token per compilation allowed at once
	queued  int            // compilations started and not finished; guarded by mu
	done    chan struct{}  // closed by stop
	stopped bool           // guarded by mu
	wg      sync.WaitGroup // the build goroutines
	log     *slog.Logger
	slow    time.Duration // a compilation longer than this is logged as a warning
}

// maxQueuedCompiles bounds the compilations started and not finished
// (running or waiting for a slot): a caller needing one more gets
// KindCompiling at once and nothing is started, so a flood of calls to
// distinct programs holds at most this many modules waiting.
const maxQueuedCompiles = 64

// compileFunc compiles code; plan is nil unless the compiled module is a
// snapshot variant (snapshot_plan.go).
type compileFunc func(ctx context.Context, code []byte) (mod wazero.CompiledModule, plan *snapshotPlan, err error)

type cacheEntry struct {
	key     id.Hash
	ready   chan struct{} // closed when mod/info/plan/err are set
	mod     wazero.CompiledModule
	info    *moduleInfo
	plan    *snapshotPlan // nil: instantiate mod and run _initialize (if any) per call
	err     error
	size    int64 // estimate, including the snapshots
	refs    int
	elem    *list.Element
	evicted bool
	snaps   map[uint64]*snapSlot // by memory limit; guarded by moduleCache.mu
}

func newModuleCache(maxBytes int64, slots int, compile compileFunc) *moduleCache {
	return &moduleCache{
		max: maxBytes, entries: make(map[id.Hash]*cacheEntry), compile: compile,
		slots: make(chan struct{}, max(1, slots)), done: make(chan struct{}),
		log: slog.New(slog.DiscardHandler), slow: DefaultCompileWait,
	}
}

// errStillCompiling is get's answer when the wait deadline passed first.
func errStillCompiling(key id.Hash, since time.Time) error {
	return newError(KindCompiling, nil, "program %s is still compiling on this node (waited %v); nothing ran, retry shortly",
		key, time.Since(since).Round(time.Millisecond))
}

// get returns the compiled module of code, starting its compilation on a
// miss, and waits for it until it is ready, ctx ends or deadline (if not
// zero) passes: then it returns KindCompiling (or the context's kind) and
// the compilation goes on for the next caller. The caller must release
// the entry when the call is over.
func (c *moduleCache) get(ctx context.Context, key id.Hash, code []byte, deadline time.Time) (*cacheEntry, error) {
	since := time.Now()
	c.mu.Lock()
	e, ok := c.entries[key]
	switch {
	case ok:
		e.refs++
		c.lru.MoveToFront(e.elem)
	case c.stopped:
		c.mu.Unlock()
		return nil, ErrClosed
	case c.queued >= maxQueuedCompiles:
		n := c.queued
		c.mu.Unlock()
		return nil, newError(KindCompiling, nil, "%d modules are compiling or waiting to compile on this node; nothing ran, retry shortly", n)
	default:
		// One reference for the caller, one for build.
		e = &cacheEntry{key: key, ready: make(chan struct{}), refs: 2, size: int64(len(code)) * compiledSizeFactor}
		e.elem = c.lru.PushFront(e)
		c.entries[key] = e
		c.size += e.size
		c.queued++
		c.wg.Add(1)
		go c.build(e, code)
	}
	c.mu.Unlock()

	select {
	case <-e.ready: // compiled already: never report a wait that did not happen
	default:
		var expired <-chan time.Time
		if !deadline.IsZero() {
			t := time.NewTimer(time.Until(deadline))
			defer t.Stop()
			expired = t.C
		}
		select {
		case <-e.ready:
		case <-ctx.Done():
			c.release(e)
			return nil, newError(interruptKind(ctx), ctx.Err(), "waiting for program %s to compile: %v", key, ctx.Err())
		case <-expired:
			c.release(e)
			return nil, errStillCompiling(key, since)
		}
	}
	if e.err != nil {
		c.release(e)
		return nil, e.err
	}
	return e, nil
}

// build compiles e's module in a compile slot and publishes the result.
// Compilation itself is not interruptible (wazero compiles a function at a
// time and checks nothing in between); the module limits bound it
// (meter.CheckLimits), and stop only stops waiting for a slot.
func (c *moduleCache) build(e *cacheEntry, code []byte) {
	defer c.wg.Done()
	var (
		mod  wazero.CompiledModule
		plan *snapshotPlan
		err  error
	)
	select {
	case c.slots <- struct{}{}:
		start := time.Now()
		mod, plan, err = c.compile(context.Background(), code)
		<-c.slots
		if took := time.Since(start); took > c.slow {
			c.log.Warn("wasm module compiled slowly", "blob", e.key.String(), "bytes", len(code), "took", took)
		}
		if err != nil {
			err = newError(KindInvalidModule, err, "compile program %s: %s", e.key, firstLine(err))
		}
	case <-c.done:
		err = ErrClosed
	}
	if err == nil {
		e.mod, e.info, e.plan = mod, inspect(mod), plan
	}
	e.err = err

	c.mu.Lock()
	if plan != nil && !e.evicted {
		e.size += plan.dataBytes
		c.size += plan.dataBytes
	}
	close(e.ready)
	if err != nil {
		c.remove(e) // failures are not cached: the next caller retries
	}
	c.queued--
	c.evict()
	c.mu.Unlock()
	c.release(e)
}

// stop makes get refuse new compilations, stops the ones waiting for a
// slot and waits for those running.
func (c *moduleCache) stop() {
	c.mu.Lock()
	already := c.stopped
	c.stopped = true
	c.mu.Unlock()
	if !already {
		close(c.done)
	}
	c.wg.Wait()
}

// release drops one reference to e, closing its module if it was evicted.
func (c *moduleCache) release(e *cacheEntry) {
	c.mu.Lock()
	e.refs--
	closeIt := e.evicted && e.refs == 0 && e.mod != nil
	c.mu.Unlock()
	if closeIt {
		_ = e.mod.Close(context.Background())
	}
}

// remove takes e out of the index; c.mu must be held.
func (c *moduleCache) remove(e *cacheEntry) {
	if e.evicted {
		return
	}
	e.evicted = true
	delete(c.entries, e.key)
	c.lru.Remove(e.elem)
	c.size -= e.size
	for _, sl := range e.snaps {
		sl.closeIdle()
	}
	if e.refs == 0 && e.mod != nil {
		_ = e.mod.Close(context.Background()) // cheap: drops the engine's reference
	}
}

// evict drops least recently used ready entries until the cache fits,
// always keeping the most recent one; c.mu must be held.
func (c *moduleCache) evict() {
	for c.size > c.max && c.lru.Len() > 1 {
		back := c.lru.Back().Value.(*cacheEntry)
		select {
		case <-back.ready:
		default:
			return // the oldest is still compiling; try again later
		}
		c.remove(back)
	}
}

// closeAll evicts everything; modules in use close on release.
func (c *moduleCache) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.lru.Len() > 0 {
		c.remove(c.lru.Back().Value.(*cacheEntry))
	}
}

// stats returns the number of cached modules and their estimated bytes.
// compiled reports whether the entry of key is built without error.
func (c *moduleCache) compiled(key id.Hash) bool {
	c.mu.Lock()
	e := c.entries[key]
	c.mu.Unlock()
	if e == nil {
		return false
	}
	select {
	case <-e.ready:
		return e.err == nil
	default:
		return false
	}
}

func (c *moduleCache) stats() (n int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len(), c.size
}

// snapSlot is a cache entry's snapshot under one memory limit: built once by
// the first call that needs it, shared by the others.
type snapSlot struct {
	ready chan struct{} // closed when snap or err is set, or the build was interrupted
	snap  *snapshot
	err   error // a deterministic failure of _initialize (or errNoSnapshot), returned to every call
	size  int64
	idle  []*instance // instances reset to snap for reuse (pool.go)
}

// maxSnapshotsPerModule bounds the memory limits a module keeps snapshots
// for (nodes use one limit; a caller varying it must not grow the cache).
const maxSnapshotsPerModule = 4

// snapshot returns e's snapshot under memory limit limit, calling build on
// a miss. Concurrent callers share one build. A build that was interrupted
// (timeout, cancellation) is not kept: its caller gets the error, waiters
// build again.
func (c *moduleCache) snapshot(ctx context.Context, e *cacheEntry, limit uint64, build func() (*snapshot, error)) (*snapshot, error) {
	for {
		c.mu.Lock()
		sl, ok := e.snaps[limit]
		if !ok {
			sl = &snapSlot{ready: make(chan struct{})}
			c.makeRoom(e)
			e.snaps[limit] = sl
			c.mu.Unlock()

			snap, err := build()
			c.mu.Lock()
			if k := KindOf(err); err != nil && (k == KindTimeout || k == KindCancelled) {
				delete(e.snaps, limit)
			} else {
				sl.snap, sl.err = snap, err
				if snap != nil {
					sl.size = snap.size()
					c.resize(e, sl.size)
				}
			}
			close(sl.ready)
			c.mu.Unlock()
			return snap, err
		}
		c.mu.Unlock()
		select {
		case <-sl.ready:
		case <-ctx.Done():
			return nil, newError(interruptKind(ctx), ctx.Err(), "waiting for %s: %v", InitializeExport, ctx.Err())
		}
		if sl.snap != nil || sl.err != nil {
			return sl.snap, sl.err
		}
	}
}

// makeRoom makes sure e has room for one more snapshot, dropping a built
// one if needed; c.mu must be held.
func (c *moduleCache) makeRoom(e *cacheEntry) {
	if e.snaps == nil {
		e.snaps = make(map[uint64]*snapSlot)
	}
	if len(e.snaps) < maxSnapshotsPerModule {
		return
	}
	for limit, sl := range e.snaps {
		select {
		case <-sl.ready:
			delete(e.snaps, limit)
			c.resize(e, -sl.size-sl.closeIdle())
			return
		default:
		}
	}
}

// resize adds delta bytes to e's estimated size and evicts if the cache no
// longer fits; c.mu must be held.
func (c *moduleCache) resize(e *cacheEntry, delta int64) {
	e.size += delta
	if !e.evicted {
		c.size += delta
		c.evict()
	}
}
