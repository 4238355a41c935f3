package wasm

import (
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

// limitedAllocator backs one instance's linear memory and enforces the
// call's memory limit: a grow past the limit is refused, so memory.grow
// returns -1 — deterministically, since the limit is an input of the call.
// A refusal is remembered; when the call then fails, Run reports
// KindOutOfMemory instead of a plain trap (a guest that handles the -1 and
// succeeds is not an error).
type limitedAllocator struct {
	limit   uint64
	reserve uint64      // bytes the host will grow right away (the input's pages): allocated up front
	refused atomic.Bool // written on the call's goroutine, read after it
	mem     *limitedMemory
}

func (a *limitedAllocator) Allocate(capBytes, maxBytes uint64) experimental.LinearMemory {
	a.mem = &limitedMemory{a: a, capHint: min(capBytes+a.reserve, a.limit)}
	return a.mem
}

// recycle returns the memory's buffer, zeroed, to the pool. Run calls it
// when the call is over and the instance closed; wazero's Free is not used
// for this because the interpreter's context watcher may call it while the
// guest is still running.
func (a *limitedAllocator) recycle() {
	if a.mem == nil || a.mem.buf == nil {
		return
	}
	buf := a.mem.buf
	a.mem.buf = nil
	if i := poolClass(uint64(cap(buf))); i >= 0 && uint64(cap(buf)) == poolMin<<i {
		clear(buf) // bytes past len were never written
		memPools[i].Put(&buf)
	}
}

// limitedMemory is a Go slice grown by doubling up to the limit. The
// compiler engine reloads the base address after every grow, so moving the
// buffer is allowed for non-shared memories (the only kind we accept).
type limitedMemory struct {
	a       *limitedAllocator
	capHint uint64
	buf     []byte
}

func (m *limitedMemory) Reallocate(size uint64) []byte {
	if m.buf == nil {
		// The initial allocation: Run checked the module's minimum against
		// the limit before instantiating, so this never fails.
		m.buf = newBuffer(size, max(size, m.capHint))
		return m.buf
	}
	if size > m.a.limit {
		m.a.refused.Store(true)
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		// Bytes past len are zero: fresh from make or cleared by recycle,
		// and never exposed since.
		m.buf = m.buf[:size]
		return m.buf
	}
	nb := newBuffer(size, min(max(size, 2*uint64(cap(m.buf))), m.a.limit))
	copy(nb, m.buf)
	m.buf = nb
	return m.buf
}

// Free does nothing: see recycle.
func (m *limitedMemory) Free() {}

// Buffers of power-of-two capacities from 64 KiB to 8 MiB are pooled: a call
// allocates its whole linear memory, and without reuse the garbage
// collector dominates the cost of a short call.
const (
	poolMin     = pageSize
	poolClasses = 8
)

var memPools [poolClasses]sync.Pool // of *[]byte, zeroed, cap poolMin<<class

// poolClass is the smallest class holding n bytes, or -1.
func poolClass(n uint64) int {
	for i := 0; i < poolClasses; i++ {
		if n <= poolMin<<i {
			return i
		}
	}
	return -1
}

// newBuffer returns a zeroed buffer of length size and capacity ≥ capacity.
func newBuffer(size, capacity uint64) []byte {
	i := poolClass(capacity)
	if i < 0 {
		return make([]byte, size, capacity)
	}
	if p, ok := memPools[i].Get().(*[]byte); ok {
		return (*p)[:size]
	}
	return make([]byte, size, poolMin<<i)
}
