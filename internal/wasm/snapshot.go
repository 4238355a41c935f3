package wasm

import (
	"context"
	"errors"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// snapshot is the state _initialize leaves in an instance of a module under
// one memory limit: the memory (only its non-zero 4 KiB blocks are kept: a
// fresh memory is zero), the module's mutable globals, and what the call
// state carries into the call. Restoring it into a fresh instance of the
// plan's variant gives the instance _initialize would have produced, in
// ~0.1 ms instead of the ~1 ms of _initialize plus the ~1.5 ms of applying
// Go's data segments. A snapshot is immutable and shared by concurrent calls.
type snapshot struct {
	pages   uint32
	runs    []memRun
	data    []byte // the runs' bytes, concatenated
	globals []uint64
	carry   carry
}

type memRun struct{ off, at, n uint32 } // memory offset, offset in data, length

// snapshotBlock is the granularity at which zero memory is skipped.
const snapshotBlock = 4096

// size is the snapshot's memory footprint, for the module cache's budget.
func (s *snapshot) size() int64 { return int64(len(s.data)) + int64(len(s.runs))*12 + 256 }

// capture takes the snapshot of x's instance after _initialize.
func capture(x *execution) (*snapshot, error) {
	mem := x.mod.Memory()
	buf, ok := mem.Read(0, mem.Size())
	if !ok {
		return nil, errors.New("read memory")
	}
	s := &snapshot{pages: mem.Size() / pageSize, carry: x.s.carry()}
	for off := 0; off < len(buf); off += snapshotBlock {
		block := buf[off:min(off+snapshotBlock, len(buf))]
		if isZero(block) {
			continue
		}
		if n := len(s.runs); n > 0 && s.runs[n-1].off+s.runs[n-1].n == uint32(off) {
			s.runs[n-1].n += uint32(len(block))
		} else {
			s.runs = append(s.runs, memRun{off: uint32(off), at: uint32(len(s.data)), n: uint32(len(block))})
		}
		s.data = append(s.data, block...)
	}
	for _, g := range x.inst.globals {
		s.globals = append(s.globals, g.Get())
	}
	return s, nil
}

// restore puts s into x's fresh instance of the variant, and its carry into
// x's call state. Nothing is charged: the call starts where _initialize
// ended.
func (s *snapshot) restore(x *execution) error {
	mem := x.mod.Memory()
	if cur := mem.Size() / pageSize; s.pages > cur {
		if _, ok := mem.Grow(s.pages - cur); !ok {
			return newError(KindOutOfMemory, nil, "restore %d pages under the memory limit of %d bytes", s.pages, x.s.call.MemoryLimit)
		}
	}
	for _, r := range s.runs {
		if !mem.Write(r.off, s.data[r.at:r.at+r.n]) {
			return newError(KindInvalidModule, nil, "restore memory at %d", r.off)
		}
	}
	s.setGlobals(x)
	return nil
}

// reset puts s into x's reused instance, whose memory has exactly s.pages
// (release checked): every byte is rewritten, from the snapshot or with
// zero, and every global.
func (s *snapshot) reset(x *execution) {
	buf := x.inst.alloc.mem.buf
	at := uint32(0)
	for _, r := range s.runs {
		clear(buf[at:r.off])
		copy(buf[r.off:r.off+r.n], s.data[r.at:r.at+r.n])
		at = r.off + r.n
	}
	clear(buf[at:])
	s.setGlobals(x)
}

// setGlobals sets the module's mutable globals and x's call state carry.
func (s *snapshot) setGlobals(x *execution) {
	for i, g := range x.inst.globals {
		g.Set(s.globals[i])
	}
	x.s.resume(&s.carry)
}

// globalsOf returns the instance's mutable globals in the plan's order.
func (p *snapshotPlan) globalsOf(m api.Module) ([]api.MutableGlobal, error) {
	gs := make([]api.MutableGlobal, len(p.globalNames))
	for i, name := range p.globalNames {
		g, ok := m.ExportedGlobal(name).(api.MutableGlobal)
		if !ok {
			return nil, newError(KindInvalidModule, nil, "variant does not export %s", name)
		}
		gs[i] = g
	}
	return gs, nil
}

// applyData writes the module's data segments into a fresh instance of the
// variant, as instantiating the module would have (the plan checked that
// they fit the initial memory).
func (p *snapshotPlan) applyData(mem api.Memory) error {
	for _, d := range p.segments {
		if !mem.Write(d.offset, d.init) {
			return newError(KindInvalidModule, nil, "data segment at %d+%d is outside memory", d.offset, len(d.init))
		}
	}
	return nil
}

func isZero(b []byte) bool {
	for len(b) >= 8 {
		if b[0]|b[1]|b[2]|b[3]|b[4]|b[5]|b[6]|b[7] != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// buildSnapshot instantiates the variant, applies the data segments, runs
// _initialize in the init environment of call c and captures the result.
// A deterministic failure of _initialize is returned as the *Error every
// call gets; an interruption (timeout, cancellation) is returned too, but
// must not be cached.
func (r *Runtime) buildSnapshot(ctx context.Context, e *cacheEntry, c *Call) (*snapshot, error) {
	ic := initCall(c)
	s := newInitState(&ic)
	x := &execution{r: r, s: s, entry: e}
	s.fuel.arm(ctx, r.interval, time.Now().Add(ic.Timeout))
	if err := x.instantiate(ctx); err != nil {
		return nil, err
	}
	defer x.inst.close(ctx)
	if err := e.plan.applyData(x.mod.Memory()); err != nil {
		return nil, err
	}
	if err := x.initialize(); err != nil {
		return nil, err
	}
	if s.wasiState {
		// _initialize may have changed the instance's file descriptors,
		// which a snapshot does not hold: run it in every call instead.
		return nil, errNoSnapshot
	}
	return capture(x)
}

// errNoSnapshot is buildSnapshot's answer for a module whose _initialize
// state cannot be snapshotted; it is cached like a result, and calls then
// run _initialize in their own instance.
var errNoSnapshot = errors.New("no snapshot")
