package meter

import (
	"fmt"

	"github.com/onvm-network/onvm/internal/wasm/meter/wasmbin"
)

// funcInstrumenter rewrites function bodies. It is reused across the functions of a module
// so that its scratch slices are allocated once.
type funcInstrumenter struct {
	cfg        Config
	exhausted  uint32
	fuel       uint32
	depth      uint32
	checkpoint uint32
	nImpFunc   uint32
	types      []wasmbin.FuncType // the module's own types
	funcTypes  []uint32           // type index of every function, original index space
	globals    uint32             // the module's own globals, imported and defined
	// addType returns the index of a type [] -> results, adding it if needed.
	addType func(results []byte) uint32

	// per-function state
	results   []byte // the function's result types
	locals    uint64 // the function's params and locals
	body      uint32 // 1 if emit wraps the body in a block typed with the results (see emit)
	ins       []wasmbin.Instr
	leader    []bool
	poll      []bool  // poll points: compare onvm_fuel with onvm_checkpoint (see markPolls)
	cost      []int64 // static cost of the segment starting at each leader
	ctrl      []ctrlFrame
	labels    []uint32
	need      tempNeeds
	temps     temps
	weight    uint32
	nest      uint32 // open output frames of the instruction being emitted (see outFrame)
	frames    []outFrame
	fuelTrap  bool    // the function has a fuel check outside poll points
	depthTrap bool    // the function has a depth check
	traps     []int32 // trap wrappers, innermost first (see emit)
	values    uint64  // upper bound on the SSA values the function creates, excluding locals
	merges    uint64  // loops, ifs and targeted blocks: where engines may create a phi per local
}

type ctrlFrame struct {
	op       wasmbin.Op // OpBlock, OpLoop, OpIf, or 0 for the function body
	targeted bool       // some branch targets this label
}

type tempNeeds struct{ i32, i64, f32, f64 bool }

// temps are the indices of the locals the instrumentation appends to a function.
type temps struct{ i32, i64, f32, f64 uint32 }

// instrument rewrites one function body (locals and expression, without the size prefix)
// of a function of type ft.
func (fi *funcInstrumenter) instrument(body []byte, ft wasmbin.FuncType) ([]byte, error) {
	params := uint32(len(ft.Params))
	fi.results = ft.Results
	r := wasmbin.NewReader(body)
	groups, err := r.Count(2)
	if err != nil {
		return nil, fmt.Errorf("locals: %w", err)
	}
	nLocals := uint64(params)
	for g := uint32(0); g < groups; g++ {
		n, err := r.U32()
		if err != nil {
			return nil, fmt.Errorf("locals: %w", err)
		}
		t, err := r.Byte()
		if err != nil {
			return nil, fmt.Errorf("locals: %w", err)
		}
		if err := wasmbin.CheckValType(t); err != nil {
			return nil, fmt.Errorf("local group %d: %w", g, err)
		}
		nLocals += uint64(n)
	}
	if nLocals > MaxLocals {
		return nil, fmt.Errorf("%w: %d params and locals (limit %d)", ErrUnsupported, nLocals, MaxLocals)
	}
	localsEnd := r.Offset()
	fi.locals = nLocals
	if err := fi.analyse(body, localsEnd); err != nil {
		return nil, err
	}
	fi.weight = frameWeight(nLocals, fi.values, fi.merges)
	fi.segmentCosts()
	fi.markPolls()

	// Temporaries are appended after the existing locals, so no local index changes.
	next := uint32(nLocals)
	var extra []byte
	var nGroups uint32
	add := func(needed bool, t byte, idx *uint32) {
		if needed {
			*idx = next
			next++
			nGroups++
			extra = append(extra, 1, t)
		}
	}
	add(fi.need.i32, wasmbin.I32, &fi.temps.i32)
	add(fi.need.i64, wasmbin.I64, &fi.temps.i64)
	add(fi.need.f32, wasmbin.F32, &fi.temps.f32)
	add(fi.need.f64, wasmbin.F64, &fi.temps.f64)

	out := make([]byte, 0, len(body)+len(body)/2+64)
	out = wasmbin.AppendU32(out, groups+nGroups)
	hdr := wasmbin.NewReader(body)
	_, _ = hdr.U32() // skip the group count already validated above
	out = append(out, body[hdr.Offset():localsEnd]...)
	out = append(out, extra...)
	return fi.emit(out, body), nil
}

// analyse decodes the expression into fi.ins and marks segment leaders: the function entry,
// the start of every loop body, then- and else-branch, the instruction after the end of every
// if and of every block some branch targets, and the instruction after every branch, return,
// unreachable and call.
func (fi *funcInstrumenter) analyse(body []byte, start int) error {
	fi.ins, fi.leader, fi.poll, fi.ctrl = fi.ins[:0], fi.leader[:0], fi.poll[:0], fi.ctrl[:0]
	fi.need = tempNeeds{}
	fi.fuelTrap, fi.depthTrap = false, false
	fi.values, fi.merges = 0, 0
	r := wasmbin.NewReader(body)
	for r.Offset() < start {
		if _, err := r.Byte(); err != nil {
			return err
		}
	}
	fi.ctrl = append(fi.ctrl, ctrlFrame{})
	pending, poll := true, true // the function entry is a leader and a poll point
	for len(fi.ctrl) > 0 {
		var in wasmbin.Instr
		var err error
		in, fi.labels, err = wasmbin.DecodeInstr(r, fi.labels[:0])
		if err != nil {
			return fmt.Errorf("at body offset %d: %w", in.Start, err)
		}
		if err := fi.checkIndices(in); err != nil {
			return err
		}
		fi.ins = append(fi.ins, in)
		fi.leader = append(fi.leader, pending || fi.cfg.everyInstruction)
		fi.poll = append(fi.poll, poll)
		pending, poll = false, false
		fi.values++
		switch in.Op {
		case wasmbin.OpBlock:
			fi.ctrl = append(fi.ctrl, ctrlFrame{op: wasmbin.OpBlock})
			fi.values += fi.blockValues(in)
		case wasmbin.OpLoop:
			fi.ctrl = append(fi.ctrl, ctrlFrame{op: wasmbin.OpLoop})
			fi.values += fi.blockValues(in)
			fi.merges++
			if fi.wrappable(in) {
				fi.merges++ // the retry loop around it (see wrapLoop)
			}
			pending, poll = true, true
		case wasmbin.OpIf:
			fi.ctrl = append(fi.ctrl, ctrlFrame{op: wasmbin.OpIf})
			fi.values += fi.blockValues(in)
			fi.merges++
			pending = true
		case wasmbin.OpElse:
			if fi.ctrl[len(fi.ctrl)-1].op != wasmbin.OpIf {
				return fmt.Errorf("%w: else without if at body offset %d", ErrInvalidModule, in.Start)
			}
			pending = true
		case wasmbin.OpEnd:
			f := fi.ctrl[len(fi.ctrl)-1]
			fi.ctrl = fi.ctrl[:len(fi.ctrl)-1]
			pending = f.op == wasmbin.OpIf || (f.op == wasmbin.OpBlock && f.targeted)
			if f.op == wasmbin.OpBlock && f.targeted {
				fi.merges++
			}
		case wasmbin.OpBr, wasmbin.OpBrIf:
			if err := fi.target(in.Imm, in.Start); err != nil {
				return err
			}
			pending = true
		case wasmbin.OpBrTable:
			for _, l := range fi.labels {
				if err := fi.target(l, in.Start); err != nil {
					return err
				}
			}
			pending = true
		case wasmbin.OpReturn, wasmbin.OpUnreachable:
			pending = true
		case wasmbin.OpCall, wasmbin.OpCallIndirect:
			pending = true
			if in.Op == wasmbin.OpCallIndirect || in.Imm >= fi.nImpFunc {
				fi.need.i32, fi.depthTrap = true, true
			}
			ti := in.Imm
			if in.Op == wasmbin.OpCall {
				if in.Imm >= uint32(len(fi.funcTypes)) {
					return fmt.Errorf("%w: call to function %d of %d at body offset %d", ErrInvalidModule, in.Imm, len(fi.funcTypes), in.Start)
				}
				ti = fi.funcTypes[in.Imm]
			}
			if ti < uint32(len(fi.types)) {
				fi.values += uint64(len(fi.types[ti].Results))
			}
		case wasmbin.OpMemoryGrow, wasmbin.OpMemoryInit, wasmbin.OpMemoryCopy, wasmbin.OpMemoryFill,
			wasmbin.OpTableInit, wasmbin.OpTableCopy, wasmbin.OpTableGrow, wasmbin.OpTableFill:
			fi.need.i32, fi.need.i64, fi.fuelTrap = true, true, true
		}
		if fi.cfg.CanonicalizeNaN {
			switch nanResult(in.Op) {
			case wasmbin.F32:
				fi.need.f32 = true
			case wasmbin.F64:
				fi.need.f64 = true
			}
		}
	}
	if r.Len() != 0 {
		return fmt.Errorf("%w: %d bytes after the function's end", ErrInvalidModule, r.Len())
	}
	return nil
}

// checkIndices refuses a local, global or type index past the module's own: those index
// spaces end with what Instrument appends (temporaries, the fuel, depth and checkpoint
// globals, the import's type), so an invalid index would become a valid one.
func (fi *funcInstrumenter) checkIndices(in wasmbin.Instr) error {
	return checkIndices(in, fi.locals, fi.globals, uint32(len(fi.types)))
}

// blockValues counts the block parameters and results of a block type.
func (fi *funcInstrumenter) blockValues(in wasmbin.Instr) uint64 {
	if in.Imm2 == wasmbin.BlockIndex && in.Imm < uint32(len(fi.types)) {
		t := fi.types[in.Imm]
		return uint64(len(t.Params) + len(t.Results))
	}
	return 1
}

// frameWeight is the depth weight of a function's frame: 1 + V/ValuesPerDepthUnit where V
// bounds the number of stack slots an optimising engine may give the frame: every local, every
// value an instruction creates, and a phi per local at every merge point.
func frameWeight(locals, values, merges uint64) uint32 {
	v := locals + values + locals*merges
	if merges != 0 && v/merges < locals { // overflow
		return MaxCallDepthLimit + 1
	}
	w := 1 + v/ValuesPerDepthUnit
	if w > MaxCallDepthLimit+1 {
		return MaxCallDepthLimit + 1
	}
	return uint32(w)
}

func (fi *funcInstrumenter) target(label, at uint32) error {
	if uint64(label) >= uint64(len(fi.ctrl)) {
		return fmt.Errorf("%w: branch to label %d at depth %d at body offset %d", ErrInvalidModule, label, len(fi.ctrl), at)
	}
	fi.ctrl[len(fi.ctrl)-1-int(label)].targeted = true
	return nil
}

// opCost is the static fuel cost of one operator.
func (fi *funcInstrumenter) opCost(op wasmbin.Op) int64 {
	switch op {
	case wasmbin.OpNop, wasmbin.OpDrop, wasmbin.OpBlock, wasmbin.OpLoop, wasmbin.OpEnd,
		wasmbin.OpElse, wasmbin.OpUnreachable, wasmbin.OpReturn:
		return 0
	}
	return int64(fi.cfg.Costs.Op)
}

// segmentCosts sums, for every leader, the static cost of its segment.
func (fi *funcInstrumenter) segmentCosts() {
	n := len(fi.ins)
	if cap(fi.cost) < n {
		fi.cost = make([]int64, n)
	}
	fi.cost = fi.cost[:n]
	var acc int64
	for i := n - 1; i >= 0; i-- {
		acc += fi.opCost(fi.ins[i].Op)
		fi.cost[i] = 0
		if fi.leader[i] {
			fi.cost[i] = acc
			acc = 0
		}
	}
}

// emit writes the instrumented expression after the locals already in out. The body is
// wrapped in up to two empty blocks whose ends lead to the trap paths, so that a check outside
// poll points is a single br_if out of line, and then in a block typed [] -> results, whose end
// checks the operand stack as the function's end would (a bare return would discard extra
// values and make an invalid body valid):
//
//	block                         ;; fuel trap (if the function charges fuel outside poll points)
//	  block                       ;; depth trap (if the function makes counted calls)
//	    block (result ...)        ;; the body block: branches to the function label target it
//	      <body>
//	    end
//	    return
//	  end
//	  i32.const 2 call $exhausted unreachable
//	end
//	i32.const 1 call $exhausted unreachable
//	end
//
// Poll points call the host and continue: see checkpoint.go.
func (fi *funcInstrumenter) emit(out, body []byte) []byte {
	fi.traps = fi.traps[:0]
	if fi.depthTrap {
		fi.traps = append(fi.traps, ReasonCallDepth)
	}
	if fi.fuelTrap {
		fi.traps = append(fi.traps, ReasonOutOfFuel)
	}
	wrappers := uint32(len(fi.traps))
	for range fi.traps {
		out = append(out, byte(wasmbin.OpBlock), blockEmpty)
	}
	fi.body = 0
	if wrappers > 0 {
		out = fi.bodyBlock(out)
		fi.body = 1
	}
	fi.frames, fi.nest = fi.frames[:0], 0
	last := len(fi.ins) - 1
	for i, in := range fi.ins {
		switch {
		case fi.poll[i] && fi.loopHeader(i):
			out = fi.loopCheck(out, fi.cost[i])
		case fi.poll[i]:
			out = fi.pollCheck(out, fi.cost[i])
		case fi.leader[i] && fi.cost[i] > 0:
			out = fi.chargeStatic(out, fi.cost[i])
		}
		depthCounted := false
		switch in.Op {
		case wasmbin.OpCall:
			if in.Imm >= fi.nImpFunc {
				depthCounted = true
				out = fi.depthEnter(out)
			}
			out = wasmbin.AppendU32(append(out, byte(wasmbin.OpCall)), renumberFunc(in.Imm, fi.nImpFunc))
		case wasmbin.OpCallIndirect:
			depthCounted = true
			out = fi.depthEnter(out)
			out = append(out, body[in.Start:in.End]...)
		case wasmbin.OpRefFunc:
			out = wasmbin.AppendU32(append(out, byte(wasmbin.OpRefFunc)), renumberFunc(in.Imm, fi.nImpFunc))
		case wasmbin.OpBr, wasmbin.OpBrIf:
			out = wasmbin.AppendU32(append(out, byte(in.Op)), fi.relabel(in.Imm))
		case wasmbin.OpBrTable:
			out = fi.brTable(out, body, in)
		case wasmbin.OpMemoryGrow:
			out = fi.chargeDynamic(out, 1, fi.cfg.Costs.MemoryGrowPerPage)
			out = append(out, body[in.Start:in.End]...)
		case wasmbin.OpMemoryInit, wasmbin.OpMemoryCopy, wasmbin.OpMemoryFill:
			out = fi.chargeDynamic(out, fi.cfg.Costs.MemoryBytesPerFuel, 1)
			out = append(out, body[in.Start:in.End]...)
		case wasmbin.OpTableInit, wasmbin.OpTableCopy, wasmbin.OpTableGrow, wasmbin.OpTableFill:
			out = fi.chargeDynamic(out, 1, fi.cfg.Costs.TablePerElement)
			out = append(out, body[in.Start:in.End]...)
		case wasmbin.OpBlock, wasmbin.OpIf:
			out = append(out, body[in.Start:in.End]...)
			fi.push(outFrame{})
		case wasmbin.OpLoop:
			if fi.wrappable(in) {
				out = fi.wrapLoop(out, body[in.Start:in.End], i)
			} else {
				out = append(out, body[in.Start:in.End]...)
				fi.push(outFrame{})
			}
		case wasmbin.OpEnd:
			if i == last {
				out = fi.trapTails(out, wrappers)
				out = append(out, byte(wasmbin.OpEnd))
				break
			}
			out = append(out, byte(wasmbin.OpEnd))
			if f := fi.pop(); f.wrapped {
				out = fi.loopTail(out, f.cost)
			}
		default:
			out = append(out, body[in.Start:in.End]...)
		}
		if depthCounted {
			out = fi.depthLeave(out)
		}
		if fi.cfg.CanonicalizeNaN {
			switch nanResult(in.Op) {
			case wasmbin.F32:
				out = fi.canonF32(out)
			case wasmbin.F64:
				out = fi.canonF64(out)
			}
		}
	}
	return out
}

// relabel renumbers a branch label past the loop wrappers of every frame the branch leaves.
// A branch to the function label targets the body block when there is one (see emit), which
// sits where the function label was.
func (fi *funcInstrumenter) relabel(l uint32) uint32 {
	n := uint32(len(fi.frames))
	out := l
	for j := uint32(0); j < l && j < n; j++ {
		if fi.frames[n-1-j].wrapped {
			out += loopWrappers
		}
	}
	return out
}

func (fi *funcInstrumenter) brTable(out, body []byte, in wasmbin.Instr) []byte {
	r := wasmbin.NewReader(body[in.Start:in.End])
	var err error
	_, fi.labels, err = wasmbin.DecodeInstr(r, fi.labels[:0])
	if err != nil || len(fi.labels) == 0 { // decoded successfully in analyse
		return append(out, body[in.Start:in.End]...)
	}
	out = wasmbin.AppendU32(append(out, byte(wasmbin.OpBrTable)), uint32(len(fi.labels)-1))
	for _, l := range fi.labels {
		out = wasmbin.AppendU32(out, fi.relabel(l))
	}
	return out
}

// bodyBlock opens the block the body runs in when it is wrapped: typed [] -> results, so that
// its end checks the operand stack exactly as the function's end would (the return after it
// would otherwise discard extra values).
func (fi *funcInstrumenter) bodyBlock(out []byte) []byte {
	out = append(out, byte(wasmbin.OpBlock))
	switch len(fi.results) {
	case 0:
		return append(out, blockEmpty)
	case 1:
		return append(out, fi.results[0])
	}
	return wasmbin.AppendS64(out, int64(fi.addType(fi.results)))
}

// trapTails closes the body block and the trap wrappers before the function's final end: the
// body returns its results, and each wrapper's end is followed by its trap path.
func (fi *funcInstrumenter) trapTails(out []byte, wrappers uint32) []byte {
	if wrappers == 0 {
		return out
	}
	out = append(out, byte(wasmbin.OpEnd), byte(wasmbin.OpReturn))
	for _, reason := range fi.traps {
		out = fi.trapPath(append(out, byte(wasmbin.OpEnd)), reason)
	}
	return out
}

func renumberFunc(f, nImpFunc uint32) uint32 {
	if f < nImpFunc {
		return f
	}
	return f + 1
}
