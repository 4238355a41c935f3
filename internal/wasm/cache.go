package wasm

import (
	"container/list"
	"context"
	"sync"

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
// keyed by the code hash. A module being compiled is shared by concurrent
// callers (one compilation per hash), and an evicted module is closed only
// after its last user released it.
type moduleCache struct {
	mu      sync.Mutex
	max     int64
	size    int64
	entries map[id.Hash]*cacheEntry
	lru     list.List // of *cacheEntry, most recently used at the front
	compile func(ctx context.Context, code []byte) (wazero.CompiledModule, error)
}

type cacheEntry struct {
	key     id.Hash
	ready   chan struct{} // closed when mod/info/err are set
	mod     wazero.CompiledModule
	info    *moduleInfo
	err     error
	size    int64
	refs    int
	elem    *list.Element
	evicted bool
}

func newModuleCache(max int64, compile func(context.Context, []byte) (wazero.CompiledModule, error)) *moduleCache {
	return &moduleCache{max: max, entries: make(map[id.Hash]*cacheEntry), compile: compile}
}

// get returns the compiled module of code, compiling it on a miss. The
// caller must release the entry when the call is over.
func (c *moduleCache) get(ctx context.Context, key id.Hash, code []byte) (*cacheEntry, error) {
	c.mu.Lock()
	if e, ok := c.entries[key]; ok {
		e.refs++
		c.lru.MoveToFront(e.elem)
		c.mu.Unlock()
		<-e.ready
		if e.err != nil {
			c.release(e)
			return nil, e.err
		}
		return e, nil
	}
	e := &cacheEntry{key: key, ready: make(chan struct{}), refs: 1, size: int64(len(code)) * compiledSizeFactor}
	e.elem = c.lru.PushFront(e)
	c.entries[key] = e
	c.size += e.size
	c.mu.Unlock()

	mod, err := c.compile(ctx, code)
	if err == nil {
		e.mod, e.info = mod, inspect(mod)
	}
	e.err = err

	c.mu.Lock()
	close(e.ready)
	if err != nil {
		c.remove(e) // failures are not cached: the next caller retries
	}
	c.evict()
	c.mu.Unlock()
	if err != nil {
		c.release(e)
		return nil, err
	}
	return e, nil
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
func (c *moduleCache) stats() (n int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len(), c.size
}
