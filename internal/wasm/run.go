package wasm

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/onvm-network/onvm/internal/wasm/meter"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"
)

// Run executes one call in an instance of c.Code of its own (see Runtime).
// It returns the result, or an *Error whose Kind says why the call failed;
// a failed call returns no writes. Run never commits anything.
func (r *Runtime) Run(ctx context.Context, c Call) (*Result, error) {
	if r.closed.Load() {
		return nil, ErrClosed
	}
	call := c.withDefaults()
	if call.Entrypoint == "" {
		return nil, newError(KindInvalidInput, nil, "no entrypoint given")
	}
	if len(call.Input) > call.MaxInput {
		return nil, newError(KindInvalidInput, nil, "input is %d bytes, the limit is %d", len(call.Input), call.MaxInput)
	}
	if kind := interruptKind(ctx); kind != 0 {
		return nil, newError(kind, ctx.Err(), "not started: %v", ctx.Err())
	}
	// The timeout runs from here: a wait for the module's compilation (the
	// first call after a restart, or on a node that never compiled it)
	// counts against it. A call whose module is not compiled by its
	// deadline fails with KindCompiling before anything ran, and the
	// compilation goes on for the next call (cache.go).
	start := time.Now()
	var deadline time.Time
	if call.Timeout > 0 {
		deadline = start.Add(call.Timeout)
	}
	e, err := r.modules.get(ctx, call.CodeHash, call.Code, deadline)
	if err != nil {
		return nil, err
	}
	defer r.modules.release(e)

	def, ok := e.info.funcs[call.Entrypoint]
	if !ok {
		return nil, newError(KindInvalidInput, nil, "%s", entrypointMessage(call.Entrypoint))
	}
	conv := conventionOf(def.ParamTypes(), def.ResultTypes())
	switch {
	case conv == 0:
		return nil, newError(KindInvalidModule, nil, "%s", entrypointMessage(call.Entrypoint))
	case !e.info.hasMemory:
		return nil, newError(KindInvalidModule, nil, "program missing exported memory")
	case uint64(e.info.memoryMin)*pageSize > call.MemoryLimit:
		return nil, newError(KindOutOfMemory, nil, "module needs %d pages of memory, the limit is %d bytes", e.info.memoryMin, call.MemoryLimit)
	}

	x := &execution{r: r, s: newCallState(&call), entry: e, conv: conv, start: start}
	if !e.info.alloc {
		x.s.mem.reserve = inputPages(len(call.Input), conv) * pageSize
	}
	out, err := x.run(ctx)
	if err != nil {
		return nil, err
	}
	return &Result{
		Output:   out,
		FuelUsed: x.s.fuel.used(),
		Writes:   x.s.overlay.writes(),
		Logs:     x.s.flushLogs(),
	}, nil
}

// execution is one call in progress (or one run of _initialize for a
// snapshot).
type execution struct {
	r     *Runtime
	s     *callState
	entry *cacheEntry
	conv  Convention
	inst  *instance
	mod   api.Module
	fuel  api.MutableGlobal // the meter's globals; nil when unmetered
	depth api.MutableGlobal
	cp    api.MutableGlobal
	ctx   context.Context // carries the call state (and, to instantiate, the memory allocator)
	start time.Time       // when Run began: the timeout counts from it
}

func (x *execution) run(ctx context.Context) (out []byte, err error) {
	x.arm(ctx)
	var snap *snapshot
	if x.entry.plan != nil {
		snap, err = x.r.modules.snapshot(ctx, x.entry, x.s.call.MemoryLimit, func() (*snapshot, error) {
			return x.r.buildSnapshot(ctx, x.entry, x.s.call)
		})
		switch {
		case errors.Is(err, errNoSnapshot):
			snap, err = nil, nil
		case err != nil:
			// A bare *Error is copied for this call; a wrapped one keeps
			// its wrapping and is returned as is.
			if e, ok := err.(*Error); ok { //nolint:errorlint // see the comment above
				return nil, e.copyFor()
			}
			return nil, err
		}
	}
	if err := x.prepare(ctx, snap); err != nil {
		return nil, err
	}
	defer func() { x.release(ctx, snap, err == nil) }()
	x.attach()
	sretPtr, inPtr, err := x.placeInput()
	if err != nil {
		return nil, err
	}
	return x.invoke(sretPtr, inPtr)
}

// prepare gives x an instance in the state _initialize leaves: an idle
// instance reset to snap, a fresh one restored from snap, or — without a
// snapshot — a fresh one in which _initialize runs (after the runtime
// applies the data segments, when the compiled module is the variant).
func (x *execution) prepare(ctx context.Context, snap *snapshot) error {
	if snap != nil {
		if in := x.r.modules.takeIdle(x.entry, x.s.call.MemoryLimit); in != nil {
			x.adopt(ctx, in)
			snap.reset(x)
			return nil
		}
		if snap.pages > x.entry.info.memoryMin {
			x.s.mem.reserve += uint64(snap.pages-x.entry.info.memoryMin) * pageSize
		}
	}
	if err := x.instantiate(ctx); err != nil {
		return err
	}
	var err error
	switch {
	case snap != nil:
		err = snap.restore(x)
	case x.entry.info.initialize:
		if x.entry.plan != nil {
			err = x.entry.plan.applyData(x.mod.Memory())
		}
		if err == nil {
			err = x.initializeInPlace(ctx)
		}
	}
	if err != nil {
		x.inst.close(ctx)
	}
	return err
}

// instantiate creates x's instance of the compiled module (the snapshot
// variant when the entry has a plan), bound to x.s, and finds the meter's
// and the plan's globals.
func (x *execution) instantiate(ctx context.Context) error {
	x.ctx = experimental.WithMemoryAllocator(context.WithValue(ctx, stateKey{}, x.s), x.s.mem)
	b := &binding{s: x.s}
	mod, err := x.r.rt.InstantiateModule(x.ctx, x.entry.mod, b.sandbox(x.r.modCfg))
	if err != nil {
		x.s.mem.recycle()
		if k := x.interrupted(err); k != 0 {
			return x.fail(err)
		}
		return newError(KindInvalidModule, err, "instantiate: %s", firstLine(err))
	}
	in := &instance{mod: mod, bind: b, alloc: x.s.mem}
	x.use(in)
	if p := x.entry.plan; p != nil {
		if in.globals, err = p.globalsOf(mod); err != nil {
			in.close(ctx)
			return err
		}
	}
	if x.s.call.unmetered {
		return nil
	}
	fuel, ok1 := mod.ExportedGlobal(meter.FuelExport).(api.MutableGlobal)
	depth, ok2 := mod.ExportedGlobal(meter.DepthExport).(api.MutableGlobal)
	cp, ok3 := mod.ExportedGlobal(meter.CheckpointExport).(api.MutableGlobal)
	if !ok1 || !ok2 || !ok3 {
		in.close(ctx)
		return newError(KindInvalidModule, nil, "module is not metered (deploy it through Prepare)")
	}
	in.fuel, in.depth, in.cp = fuel, depth, cp
	x.use(in)
	return nil
}

// attach connects the current phase's fuel tank to the meter's globals.
func (x *execution) attach() {
	if x.fuel != nil {
		x.s.fuel.attach(x.fuel, x.cp)
	}
}

// initialize runs _initialize in x.s, whose phase must be the init
// environment. A failure is the call's error (initFailure).
func (x *execution) initialize() error {
	x.attach()
	if _, err := x.call(InitializeExport); err != nil {
		return initFailure(x.fail(err))
	}
	return nil
}

// initializeInPlace runs _initialize in the call's own instance, in the
// init environment, then switches the call state back to the call: the
// path of modules without a snapshot plan, with the same results.
func (x *execution) initializeInPlace(ctx context.Context) error {
	ic := initCall(x.s.call)
	tank := newFuelTank(ic.Fuel)
	tank.arm(ctx, x.r.interval, time.Now().Add(ic.Timeout))
	callPhase := x.s.swap(phase{call: &ic, fuel: tank, rng: newInitRNG(), initializing: true})
	err := x.initialize()
	x.s.swap(callPhase)
	return err
}

// arm gives the call's fuel tank its deadline (the timeout, or the
// context's deadline if earlier), its context and the checkpoint interval:
// the guest stops at the first checkpoint after either is done. No timer or
// goroutine is involved (see fuelTank).
func (x *execution) arm(ctx context.Context) {
	var deadline time.Time
	if t := x.s.call.Timeout; t > 0 {
		if x.start.IsZero() {
			x.start = time.Now()
		}
		deadline = x.start.Add(t)
	}
	x.s.fuel.arm(ctx, x.r.interval, deadline)
}

// call calls an export with the call depth reset, as the meter requires.
func (x *execution) call(name string, params ...uint64) ([]uint64, error) {
	if x.depth != nil {
		x.depth.Set(0)
	}
	return x.mod.ExportedFunction(name).Call(x.ctx, params...)
}

// placeInput writes the input into guest memory where it cannot clobber
// guest data: into a buffer from the guest's onvm_alloc when exported,
// otherwise into fresh pages grown at the end of memory. For the sret
// convention it also reserves the 8-byte result slot, zeroed.
func (x *execution) placeInput() (sretPtr, inPtr uint32, err error) {
	mem := x.mod.Memory()
	input := x.s.call.Input
	n := uint32(len(input))
	if !x.s.fuel.take(bytesCost(uint64(n))) {
		return 0, 0, x.fail(errHostOutOfFuel)
	}
	if x.entry.info.alloc {
		if inPtr, err = x.alloc(mem, n); err != nil {
			return 0, 0, err
		}
		if x.conv == ConvSret {
			if sretPtr, err = x.alloc(mem, 8); err != nil {
				return 0, 0, err
			}
		}
	} else {
		if pages := inputPages(len(input), x.conv); pages > 0 {
			old, ok := mem.Grow(uint32(pages))
			if !ok {
				return 0, 0, &Error{Kind: KindOutOfMemory, FuelUsed: x.s.fuel.used(), Logs: x.s.flushLogs(),
					Message: fmt.Sprintf("no room for the %d-byte input under the memory limit of %d bytes", n, x.s.call.MemoryLimit)}
			}
			base := old * pageSize
			inPtr = base
			if x.conv == ConvSret {
				sretPtr, inPtr = base, base+8
			}
		}
	}
	if x.conv == ConvSret && !mem.WriteUint64Le(sretPtr, 0) {
		return 0, 0, x.trap("sret slot %d out of bounds", sretPtr)
	}
	if !mem.Write(inPtr, input) {
		return 0, 0, x.trap("input slot %d+%d out of bounds", inPtr, n)
	}
	return sretPtr, inPtr, nil
}

// inputPages is the number of pages grown for the input (and the sret slot)
// when the guest has no onvm_alloc.
func inputPages(n int, conv Convention) uint64 {
	need := uint64(n)
	if conv == ConvSret {
		need += 8
	}
	return (need + pageSize - 1) / pageSize
}

// alloc calls the guest's onvm_alloc and checks the returned range.
func (x *execution) alloc(mem api.Memory, n uint32) (uint32, error) {
	res, err := x.call(AllocExport, uint64(n))
	if err != nil {
		return 0, x.fail(err)
	}
	p := api.DecodeI32(res[0])
	if p < 0 || uint64(p)+uint64(n) > uint64(mem.Size()) {
		return 0, x.trap("onvm_alloc(%d) returned %d, outside memory of %d bytes", n, p, mem.Size())
	}
	return uint32(p), nil
}

// invoke calls the entrypoint and copies its output out.
func (x *execution) invoke(sretPtr, inPtr uint32) ([]byte, error) {
	n := uint64(len(x.s.call.Input))
	var outPtr, outLen uint32
	switch x.conv {
	case ConvMultiValue:
		res, err := x.call(x.s.call.Entrypoint, uint64(inPtr), n)
		if err != nil {
			return nil, x.fail(err)
		}
		outPtr, outLen = uint32(res[0]), uint32(res[1])
	case ConvPacked:
		res, err := x.call(x.s.call.Entrypoint, uint64(inPtr), n)
		if err != nil {
			return nil, x.fail(err)
		}
		outPtr, outLen = uint32(res[0]>>32), uint32(res[0])
	case ConvSret:
		if _, err := x.call(x.s.call.Entrypoint, uint64(sretPtr), uint64(inPtr), n); err != nil {
			return nil, x.fail(err)
		}
		slot, ok := x.mod.Memory().Read(sretPtr, 8)
		if !ok {
			return nil, x.trap("sret slot %d out of bounds", sretPtr)
		}
		outPtr, outLen = binary.LittleEndian.Uint32(slot), binary.LittleEndian.Uint32(slot[4:])
	}
	if x.s.call.inspect != nil {
		if all, ok := x.mod.Memory().Read(0, x.mod.Memory().Size()); ok {
			x.s.call.inspect(all)
		}
	}
	if int32(outPtr) < 0 || int32(outLen) < 0 {
		return nil, x.trap("entrypoint returned a negative output pointer or length (%d, %d)", int32(outPtr), int32(outLen))
	}
	if int(outLen) > x.s.call.MaxOutput {
		return nil, &Error{Kind: KindOutputTooLarge, FuelUsed: x.s.fuel.used(), Logs: x.s.flushLogs(),
			Message: fmt.Sprintf("output is %d bytes, the limit is %d", outLen, x.s.call.MaxOutput)}
	}
	view, ok := x.mod.Memory().Read(outPtr, outLen)
	if !ok {
		return nil, x.trap("output [%d, %d+%d) is outside memory of %d bytes", outPtr, outPtr, outLen, x.mod.Memory().Size())
	}
	if !x.s.fuel.take(bytesCost(uint64(outLen))) {
		return nil, x.fail(errHostOutOfFuel)
	}
	return append([]byte{}, view...), nil
}

// trap reports a call-convention violation by the guest.
func (x *execution) trap(format string, args ...any) *Error {
	return &Error{Kind: KindTrap, Message: fmt.Sprintf(format, args...), FuelUsed: x.s.fuel.used(), Logs: x.s.flushLogs()}
}

// fail turns an engine error into the call's typed error.
func (x *execution) fail(err error) *Error {
	kind, msg := x.classify(err)
	return &Error{Kind: kind, Message: msg, FuelUsed: x.s.fuel.used(), Logs: x.s.flushLogs(), cause: err}
}

func (x *execution) classify(err error) (ErrorKind, string) {
	s := x.s
	if k := x.interrupted(err); k != 0 {
		if k == KindTimeout {
			return k, fmt.Sprintf("stopped after the %v timeout or the context deadline", s.call.Timeout)
		}
		return k, "stopped: context cancelled"
	}
	var exit *sys.ExitError
	isExit := errors.As(err, &exit)
	switch {
	case s.writesRefused > 0:
		return KindWritesTooLarge, fmt.Sprintf("state writes would reach %d bytes, the limit is %d (key + value + %d bytes per key written)",
			s.writesRefused, s.call.MaxWriteSet, WriteOverhead)
	case s.exhausted == meter.ReasonOutOfFuel || errors.Is(err, errHostOutOfFuel):
		return KindOutOfFuel, fmt.Sprintf("fuel budget of %d exhausted", s.call.Fuel)
	case s.exhausted == meter.ReasonCallDepth || strings.HasSuffix(firstLine(err), "stack overflow"):
		return KindCallDepth, "call depth limit exceeded"
	case s.mem.refused.Load():
		return KindOutOfMemory, fmt.Sprintf("memory.grow beyond the limit of %d bytes was refused", s.call.MemoryLimit)
	}
	msg := strings.TrimPrefix(firstLine(err), "wasm error: ")
	if isExit {
		msg = fmt.Sprintf("exit code %d", exit.ExitCode())
	}
	s.flushLogs()
	if g := s.guestMessage(); g != "" {
		msg += ": " + g
	}
	return KindTrap, msg
}

// interrupted returns KindTimeout or KindCancelled when the call was stopped
// from outside, else 0.
func (x *execution) interrupted(err error) ErrorKind {
	if k := x.s.fuel.interruption(); k != 0 {
		return k
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			return KindTimeout
		case sys.ExitCodeContextCanceled:
			return KindCancelled
		}
	}
	return 0
}

// interruptKind maps a done context to KindTimeout or KindCancelled, or 0.
func interruptKind(ctx context.Context) ErrorKind {
	switch {
	case ctx.Err() == nil:
		return 0
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return KindTimeout
	default:
		return KindCancelled
	}
}

func firstLine(err error) string {
	if err == nil {
		return ""
	}
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}
