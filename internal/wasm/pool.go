package wasm

import (
	"context"

	"github.com/tetratelabs/wazero/api"
)

// instance is a module instance and what the runtime keeps about it: the
// binding its WASI configuration reaches the call through, its memory's
// allocator, the meter's globals and the snapshot plan's globals.
//
// An instance restored from a snapshot is reused for the next call of the
// same module under the same memory limit — reset to the snapshot instead
// of instantiated again (wazero's instantiation of a Go module, ~5 000
// table elements, costs ~0.1–0.25 ms) — but only when the call succeeded,
// its memory did not grow (wazero cannot shrink a memory), and it called no
// WASI function that may change the instance's file descriptors
// (wasiStateless). Its memory and every mutable global are then rewritten
// from the snapshot; tables and segments cannot have changed (the plan
// refuses modules with instructions that change them). The result is the
// instance a fresh instantiation and restore would give: the snapshot tests
// compare the two paths call by call.
type instance struct {
	mod             api.Module
	bind            *binding
	alloc           *limitedAllocator
	fuel, depth, cp api.MutableGlobal // nil when unmetered
	globals         []api.MutableGlobal
}

// maxIdle bounds the instances kept per snapshot. One program's executions
// are serialised by the node, so one is usually enough.
const maxIdle = 2

// size estimates an idle instance's memory for the module cache's budget:
// its linear memory's buffer and wazero's per-instance tables.
func (in *instance) size() int64 {
	n := int64(256 << 10)
	if in.alloc.mem != nil {
		n += int64(cap(in.alloc.mem.buf))
	}
	return n
}

// close closes the instance and returns its memory to the pool of buffers.
func (in *instance) close(ctx context.Context) {
	_ = in.mod.Close(context.WithoutCancel(ctx))
	in.alloc.recycle()
}

// takeIdle returns an idle instance of e under memory limit limit, or nil.
func (c *moduleCache) takeIdle(e *cacheEntry, limit uint64) *instance {
	c.mu.Lock()
	defer c.mu.Unlock()
	sl := e.snaps[limit]
	if sl == nil || len(sl.idle) == 0 {
		return nil
	}
	in := sl.idle[len(sl.idle)-1]
	sl.idle = sl.idle[:len(sl.idle)-1]
	c.resize(e, -in.size())
	return in
}

// putIdle keeps in for reuse, or reports false (the caller closes it) when
// e was evicted, the snapshot dropped, or enough instances are idle.
func (c *moduleCache) putIdle(e *cacheEntry, limit uint64, in *instance) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	sl := e.snaps[limit]
	if e.evicted || sl == nil || sl.snap == nil || len(sl.idle) >= maxIdle {
		return false
	}
	sl.idle = append(sl.idle, in)
	c.resize(e, in.size())
	return true
}

// closeIdle closes sl's idle instances; c.mu is held.
func (sl *snapSlot) closeIdle() int64 {
	var n int64
	for _, in := range sl.idle {
		n += in.size()
		in.close(context.Background())
	}
	sl.idle = nil
	return n
}

// adopt makes x use in, an idle instance, for x's call.
func (x *execution) adopt(ctx context.Context, in *instance) {
	in.bind.s = x.s
	in.alloc.refused.Store(false)
	x.s.mem = in.alloc
	x.ctx = context.WithValue(ctx, stateKey{}, x.s)
	x.use(in)
}

// use makes in x's instance.
func (x *execution) use(in *instance) {
	x.inst, x.mod = in, in.mod
	x.fuel, x.depth, x.cp = in.fuel, in.depth, in.cp
}

// release keeps x's instance for the next call when it may be reused
// (see instance), else closes it. ok reports whether the call succeeded.
func (x *execution) release(ctx context.Context, snap *snapshot, ok bool) {
	if snap != nil && ok && !x.s.wasiState && x.s.fuel.interruption() == 0 &&
		x.mod.Memory().Size() == snap.pages*pageSize &&
		x.r.modules.putIdle(x.entry, x.s.call.MemoryLimit, x.inst) {
		return
	}
	x.inst.close(ctx)
}
