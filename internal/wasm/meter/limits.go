package meter

import (
	"fmt"

	"github.com/onvm-network/onvm/internal/wasm/meter/wasmbin"
)

// Module limits. They bound what compiling a module costs a node (every node compiles every
// deployed module): wazero's compiler holds a whole function's SSA in memory, spends time per
// function and per declared local, and is superlinear in nesting depth. Each limit is chosen
// from measurement (bench/compilebench, docs/security.md "Module limits") so that the largest
// module of each hostile shape instruments and compiles in under half a second with under
// 64 MiB of peak RSS growth, and a module at every limit at once within 2 s and 256 MiB.
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
	// MaxNesting filling the code section took 3.7 s, and this bound keeps that part of
	// the cost under 0.5 s.
	MaxNestingWork = 150_000_000
	// MaxDataSegments bounds the data segments (wasmtime's parser allows 100 000; Go guests
	// have 22 000 to 32 000).
	MaxDataSegments = 100_000
	// MaxElementSegments bounds the element segments (compilers emit one).
	MaxElementSegments = 10_000
)

// LimitError reports a module over one of the module limits. It wraps ErrUnsupported.
type LimitError struct {
	// Limit names the limit: function_size, code_size, functions, locals, function_locals,
	// nesting, nesting_work, data_segments, element_segments or tables.
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
	var total, work uint64
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
		var blocks, deepest uint64
		for depth := 1; depth > 0; {
			var in wasmbin.Instr
			if in, labels, err = wasmbin.DecodeInstr(r, labels[:0]); err != nil {
				return fmt.Errorf("%s at body offset %d: %w", where, in.Start, err)
			}
			switch in.Op {
			case wasmbin.OpBlock, wasmbin.OpLoop, wasmbin.OpIf:
				if depth++; depth-1 > MaxNesting {
					return &LimitError{Limit: "nesting", Value: uint64(depth - 1), Max: MaxNesting, Where: where}
				}
				blocks++
				deepest = max(deepest, uint64(depth-1))
			case wasmbin.OpEnd:
				depth--
			}
		}
		if work += blocks * deepest; work > MaxNestingWork {
			return &LimitError{Limit: "nesting_work", Value: work, Max: MaxNestingWork}
		}
	}
	return nil
}
