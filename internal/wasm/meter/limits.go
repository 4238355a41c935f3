package meter

import (
	"fmt"

	"github.com/onvm-network/onvm/internal/wasm/meter/wasmbin"
)

// Module limits. They bound what compiling a module costs a node (every node compiles every
// deployed module): wazero's compiler holds a whole function's SSA in memory, spends time per
// function and per declared local, and is superlinear in nesting depth and in branch points.
// Each limit is chosen from measurement (bench/compilebench, docs/security.md "Module limits")
// so that the largest module of each hostile shape instruments and compiles in at most about
// the time of a Go guest, with under 64 MiB of peak RSS growth.
// CheckLimits applies them to a module before Instrument does anything else.
const (
	// MaxFunctionSize bounds one function body in bytes: a body of 3 million
	// `i32.const 0; drop` (9 MB) cost a node 1.5 GiB to compile.
	MaxFunctionSize = 256 << 10
	// MaxCodeSize bounds the code section in bytes (compile time is about linear in it, and
	// a Go guest of 1.7 MB of code takes 1.5 s). Our Go examples have 1.1 to 1.4 MB.
	MaxCodeSize = 2560 << 10
	// MaxFunctions bounds the functions, imported and defined (CosmWasm allows 20 000).
	MaxFunctions = 20_000
	// MaxTotalLocals bounds the params and locals of all functions together (MaxLocals
	// bounds each): engines allocate and zero each one per function.
	MaxTotalLocals = 1_000_000
	// MaxNesting bounds the depth of nested blocks, loops and ifs in a function: compile
	// time grows with depth times the function's length (100 000 nested blocks compiled for
	// a minute).
	// Go guests nest up to about 550 deep (the resumption switch of a function).
	MaxNesting = 1_000
	// MaxNestingWork bounds the sum over functions of blocks × depth (each function's count
	// of blocks, loops and ifs times its deepest nesting): wazero's compile time is about
	// 0.9 µs per block plus 3.3 ns per block per level of depth, so functions each at
	// MaxNesting filling the code section took 3.7 s. MaxBlocks alone would allow 100
	// million; this bound keeps that part of the cost near 0.2 s (Go guests have 1.9 to
	// 3.1 million).
	MaxNestingWork = 50_000_000
	// MaxBranchWork bounds the sum over functions of each function's branch work
	// (bodyShape.dominators: the depth in the dominator tree of each basic block a branch
	// point starts). wazero's loop detection walks that tree up from every basic block, so
	// a function of n branch points one after the other costs n² / 2: one function of
	// 20 000 loops (60 KB) compiled for 216 s with 374 MiB, and 10 000 `br_if`s for 4.8 s.
	// Go guests have 0.22 to 0.29 million; at this bound the worst shapes compile in about
	// half a second (docs/security.md).
	MaxBranchWork = 4_000_000
	// MaxBlocks bounds the blocks, loops and ifs of all functions together, the part of
	// their cost that is linear (about 2 µs a block, 10 µs a loop). Go guests have about
	// 31 000 per MB of code (36 000 to 49 000), so 80 000 at the code size limit.
	MaxBlocks = 100_000
	// MaxDataSegments bounds the data segments (wasmtime's parser allows 100 000; Go guests
	// have 22 000 to 32 000).
	MaxDataSegments = 100_000
	// MaxElementSegments bounds the element segments (compilers emit one).
	MaxElementSegments = 10_000
)

// LimitError reports a module over one of the module limits. It wraps ErrUnsupported.
type LimitError struct {
	// Limit names the limit: function_size, code_size, functions, locals, function_locals,
	// nesting, nesting_work, branch_work, blocks, data_segments, element_segments or tables.
	Limit string
	Value uint64 // the module's figure
	Max   uint64 // the limit
	Where string // the function or item, if any
}

func (e *LimitError) Error() string {
	w := ""
	if e.Where != "" {
		w = e.Where + ": "
	}
	return fmt.Sprintf("module limit: %s%s %d exceeds the limit of %d", w, e.Limit, e.Value, e.Max)
}

// Unwrap makes a LimitError an ErrUnsupported.
func (e *LimitError) Unwrap() error { return ErrUnsupported }

// CheckLimits decodes wasm with the bounded decoder and checks it against the module limits,
// without compiling or rewriting anything. It costs one pass over the bytes. Errors are a
// *LimitError, or wrap ErrInvalidModule or ErrUnsupported for bytes that do not decode.
func CheckLimits(wasm []byte) error {
	m, err := wasmbin.Decode(wasm)
	if err != nil {
		return err
	}
	return checkLimits(m)
}

func checkLimits(m *wasmbin.Module) error {
	var (
		types []wasmbin.FuncType
		funcs uint64 // imported and defined
		sigs  []uint32
	)
	for _, s := range m.Sections {
		var err error
		switch s.ID {
		case wasmbin.SecType:
			types, err = wasmbin.DecodeTypes(s.Payload)
		case wasmbin.SecImport:
			var imports []wasmbin.Import
			imports, err = wasmbin.DecodeImports(s.Payload)
			for _, im := range imports {
				if im.Kind == wasmbin.KindFunc {
					funcs++
				}
			}
		case wasmbin.SecFunction:
			sigs, err = wasmbin.DecodeFunctions(s.Payload)
			funcs += uint64(len(sigs))
			if err == nil && funcs > MaxFunctions {
				return &LimitError{Limit: "functions", Value: funcs, Max: MaxFunctions}
			}
		case wasmbin.SecCode:
			if len(s.Payload) > MaxCodeSize {
				return &LimitError{Limit: "code_size", Value: uint64(len(s.Payload)), Max: MaxCodeSize}
			}
			err = checkBodies(s.Payload, types, sigs, funcs-uint64(len(sigs)))
		case wasmbin.SecData:
			err = checkCount(s.Payload, "data_segments", MaxDataSegments)
		case wasmbin.SecElement:
			err = checkCount(s.Payload, "element_segments", MaxElementSegments)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func checkCount(p []byte, limit string, max uint64) error {
	n, err := wasmbin.NewReader(p).U32()
	if err != nil {
		return err
	}
	if uint64(n) > max {
		return &LimitError{Limit: limit, Value: uint64(n), Max: max}
	}
	return nil
}

// checkBodies checks every body's size, locals and nesting depth, and the locals in total.
func checkBodies(p []byte, types []wasmbin.FuncType, sigs []uint32, imported uint64) error {
	bodies, err := wasmbin.DecodeCode(p)
	if err != nil {
		return err
	}
	var total, work, branchWork, allBlocks uint64
	var labels []uint32

	for i, body := range bodies {
		where := fmt.Sprintf("function %d", imported+uint64(i))
		if len(body) > MaxFunctionSize {
			return &LimitError{Limit: "function_size", Value: uint64(len(body)), Max: MaxFunctionSize, Where: where}
		}
		r := wasmbin.NewReader(body)
		groups, err := r.Count(2)
		if err != nil {
			return err
		}
		var n uint64
		if i < len(sigs) && sigs[i] < uint32(len(types)) {
			n = uint64(len(types[sigs[i]].Params))
		}
		for range groups {
			c, err := r.U32()
			if err != nil {
				return err
			}
			if _, err := r.Byte(); err != nil {
				return err
			}
			n += uint64(c)
		}
		if n > MaxLocals {
			return &LimitError{Limit: "function_locals", Value: n, Max: MaxLocals, Where: where}
		}
		if total += n; total > MaxTotalLocals {
			return &LimitError{Limit: "locals", Value: total, Max: MaxTotalLocals}
		}
		var sh bodyShape
		if labels, err = sh.scan(r, labels, where, &allBlocks); err != nil {
			return err
		}
		if branchWork += sh.dominators; branchWork > MaxBranchWork {
			return &LimitError{Limit: "branch_work", Value: branchWork, Max: MaxBranchWork, Where: where}
		}
		blocks, deepest := sh.blocks, sh.deepest
		if work += blocks * deepest; work > MaxNestingWork {
			return &LimitError{Limit: "nesting_work", Value: work, Max: MaxNestingWork}
		}
	}
	return nil
}

// bodyShape is what checkBodies measures of one function body.
type bodyShape struct {
	blocks, deepest uint64 // blocks, loops and ifs; the deepest nesting
	// dominators estimates the work of wazero's loop detection, which walks the dominator
	// tree up from every basic block: the sum over the basic blocks a branch point starts
	// of their depth in that tree. A br_if starts a block below the current one, a loop or
	// an if one two levels below (the meter adds a branch to each), an else or the end of
	// a block or an if starts a block just below where the construct began.
	dominators uint64
	entries    []uint64 // the dominator depth where each open construct began
}

// scan reads the instructions of a body from r (after its locals) up to its final end.
func (sh *bodyShape) scan(r *wasmbin.Reader, labels []uint32, where string, allBlocks *uint64) ([]uint32, error) {
	var d uint64 // the dominator depth of the current basic block
	enter := func(levels uint64) { d += levels; sh.dominators += d }
	kinds := []wasmbin.Op{wasmbin.OpBlock} // the function body
	sh.entries = append(sh.entries[:0], 0)
	for len(kinds) > 0 {
		in, l, err := wasmbin.DecodeInstr(r, labels[:0])
		labels = l
		if err != nil {
			return labels, fmt.Errorf("%s at body offset %d: %w", where, in.Start, err)
		}
		switch in.Op {
		case wasmbin.OpBlock, wasmbin.OpLoop, wasmbin.OpIf:
			if len(kinds) > MaxNesting {
				return labels, &LimitError{Limit: "nesting", Value: uint64(len(kinds)), Max: MaxNesting, Where: where}
			}
			sh.blocks++
			if *allBlocks++; *allBlocks > MaxBlocks {
				return labels, &LimitError{Limit: "blocks", Value: *allBlocks, Max: MaxBlocks}
			}
			sh.deepest = max(sh.deepest, uint64(len(kinds)))
			kinds, sh.entries = append(kinds, in.Op), append(sh.entries, d)
			if in.Op != wasmbin.OpBlock {
				enter(2)
			}
		case wasmbin.OpElse:
			d = sh.entries[len(sh.entries)-1]
			enter(1)
		case wasmbin.OpBrIf:
			enter(1)
		case wasmbin.OpEnd:
			k, e := kinds[len(kinds)-1], sh.entries[len(sh.entries)-1]
			kinds, sh.entries = kinds[:len(kinds)-1], sh.entries[:len(sh.entries)-1]
			if k != wasmbin.OpLoop && len(kinds) > 0 {
				d = e
				enter(1)
			}
		}
	}
	return labels, nil
}
