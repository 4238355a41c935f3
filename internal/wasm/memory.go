package wasm

import (
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
	refused atomic.Bool // written on the call's goroutine, read after it
}

func (a *limitedAllocator) Allocate(capBytes, maxBytes uint64) experimental.LinearMemory {
	return &limitedMemory{a: a, capHint: min(capBytes, a.limit)}
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
		m.buf = make([]byte, size, max(size, m.capHint))
		return m.buf
	}
	if size > m.a.limit {
		m.a.refused.Store(true)
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		// Bytes past len were zeroed by make and never exposed since.
		m.buf = m.buf[:size]
		return m.buf
	}
	newCap := min(max(size, 2*uint64(cap(m.buf))), m.a.limit)
	nb := make([]byte, size, newCap)
	copy(nb, m.buf)
	m.buf = nb
	return m.buf
}

func (m *limitedMemory) Free() { m.buf = nil }
