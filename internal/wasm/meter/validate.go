package meter

import (
	"fmt"

	"github.com/onvm-network/onvm/internal/wasm/meter/wasmbin"
)

// maxTemps is the number of locals Instrument may add to a function.
const maxTemps = 4

// Validate decodes wasm with the bounded decoder Instrument uses, without rewriting it, and
// accepts instrumented and uninstrumented modules alike. It checks every count in every
// section wazero decodes against the bytes present, that no function declares more than
// MaxLocals params and locals (plus the temporaries Instrument adds), and that every function
// body decodes instruction by instruction up to its end. Bytes that pass can be handed to
// wazero's decoder, which allocates what count fields say before checking them. Validate
// does not type-check (wazero does); errors wrap ErrInvalidModule or ErrUnsupported.
func Validate(wasm []byte) error {
	if err := validate(wasm); err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	return nil
}

func validate(wasm []byte) error {
	m, err := wasmbin.Decode(wasm)
	if err != nil {
		return err
	}
	var (
		types    []wasmbin.FuncType
		nImport  uint32 // imported functions
		funcs    []uint32
		nGlobals uint32 // imported and defined
		names    [][]byte
	)
	same := func(f uint32) uint32 { return f }
	for _, s := range m.Sections {
		var err error
		switch s.ID {
		case wasmbin.SecType:
			types, err = wasmbin.DecodeTypes(s.Payload)
		case wasmbin.SecImport:
			var imports []wasmbin.Import
			imports, err = wasmbin.DecodeImports(s.Payload)
			for _, im := range imports {
				switch im.Kind {
				case wasmbin.KindFunc:
					nImport++
				case wasmbin.KindGlobal:
					nGlobals++
				}
			}
		case wasmbin.SecFunction:
			funcs, err = wasmbin.DecodeFunctions(s.Payload)
		case wasmbin.SecTable:
			_, err = wasmbin.CountTables(s.Payload)
		case wasmbin.SecMemory:
			_, err = wasmbin.CountMemories(s.Payload)
		case wasmbin.SecGlobal:
			var gs []wasmbin.Global
			if gs, err = wasmbin.DecodeGlobals(s.Payload); err == nil {
				nGlobals += uint32(len(gs))
				for _, g := range gs {
					if _, err = wasmbin.RewriteConstExpr(g.Init, same); err != nil {
						break
					}
				}
			}
		case wasmbin.SecExport:
			var es []wasmbin.Export
			es, err = wasmbin.DecodeExports(s.Payload)
			for _, e := range es {
				if e.Kind == wasmbin.KindGlobal && e.Index >= nGlobals {
					err = fmt.Errorf("%w: export %q is global %d of %d", ErrInvalidModule, e.Name, e.Index, nGlobals)
					break
				}
			}
		case wasmbin.SecStart:
			_, err = wasmbin.DecodeStart(s.Payload)
		case wasmbin.SecElement:
			_, err = wasmbin.RewriteElements(s.Payload, same)
		case wasmbin.SecCode:
			err = validateCode(s.Payload, types, funcs, nGlobals)
		case wasmbin.SecData:
			_, err = wasmbin.CheckData(s.Payload)
		case wasmbin.SecCustom:
			if s.Name == "name" {
				names = append(names, s.Payload) // checked once the function count is known
			}
		}
		if err != nil {
			return fmt.Errorf("section %d: %w", s.ID, err)
		}
	}
	if uint64(nImport)+uint64(len(funcs)) >= 1<<27 {
		return fmt.Errorf("%w: %d functions", ErrInvalidModule, uint64(nImport)+uint64(len(funcs)))
	}
	for _, p := range names {
		if _, err := wasmbin.RewriteNames(p, same, nImport+uint32(len(funcs))); err != nil {
			return fmt.Errorf("name section: %w", err)
		}
	}
	return nil
}

// validateCode decodes every body: its locals, bounded, and its instructions up to the end
// that closes the function.
func validateCode(p []byte, types []wasmbin.FuncType, funcs []uint32, globals uint32) error {
	bodies, err := wasmbin.DecodeCode(p)
	if err != nil {
		return err
	}
	if len(bodies) != len(funcs) {
		return fmt.Errorf("%w: %d function bodies for %d functions", ErrInvalidModule, len(bodies), len(funcs))
	}
	var labels []uint32
	for i, body := range bodies {
		if funcs[i] >= uint32(len(types)) {
			return fmt.Errorf("%w: function %d has type %d of %d", ErrInvalidModule, i, funcs[i], len(types))
		}
		r := wasmbin.NewReader(body)
		groups, err := r.Count(2)
		if err != nil {
			return fmt.Errorf("defined function %d locals: %w", i, err)
		}
		n := uint64(len(types[funcs[i]].Params))
		for g := uint32(0); g < groups; g++ {
			c, err := r.U32()
			if err != nil {
				return fmt.Errorf("defined function %d locals: %w", i, err)
			}
			t, err := r.Byte()
			if err != nil {
				return fmt.Errorf("defined function %d locals: %w", i, err)
			}
			if err := wasmbin.CheckValType(t); err != nil {
				return fmt.Errorf("defined function %d local group %d: %w", i, g, err)
			}
			n += uint64(c)
		}
		if n > MaxLocals+maxTemps {
			return fmt.Errorf("%w: defined function %d has %d params and locals (limit %d)", ErrUnsupported, i, n, MaxLocals+maxTemps)
		}
		for depth := 1; depth > 0; {
			var in wasmbin.Instr
			if in, labels, err = wasmbin.DecodeInstr(r, labels[:0]); err != nil {
				return fmt.Errorf("defined function %d at body offset %d: %w", i, in.Start, err)
			}
			if err := checkIndices(in, n, globals, uint32(len(types))); err != nil {
				return fmt.Errorf("defined function %d: %w", i, err)
			}
			switch in.Op {
			case wasmbin.OpBlock, wasmbin.OpLoop, wasmbin.OpIf:
				depth++
			case wasmbin.OpEnd:
				depth--
			}
		}
		if r.Len() != 0 {
			return fmt.Errorf("%w: defined function %d has %d bytes after its end", ErrInvalidModule, i, r.Len())
		}
	}
	return nil
}

// checkIndices refuses an instruction whose local, global or type index is past the
// function's locals, the module's globals or its types. The engine checks them too, but
// Instrument appends to all three index spaces, so it must refuse such an index itself: in
// its output the index would reach a temporary, a meter global or the import's type.
func checkIndices(in wasmbin.Instr, locals uint64, globals, types uint32) error {
	var what string
	var n uint64
	switch in.Op {
	case wasmbin.OpLocalGet, wasmbin.OpLocalSet, wasmbin.OpLocalTee:
		what, n = "local", locals
	case wasmbin.OpGlobalGet, wasmbin.OpGlobalSet:
		what, n = "global", uint64(globals)
	case wasmbin.OpCallIndirect:
		what, n = "type", uint64(types)
	case wasmbin.OpBlock, wasmbin.OpLoop, wasmbin.OpIf:
		if in.Imm2 != wasmbin.BlockIndex {
			return nil
		}
		what, n = "block type", uint64(types)
	default:
		return nil
	}
	if uint64(in.Imm) >= n {
		return fmt.Errorf("%w: %s %s %d of %d at body offset %d", ErrInvalidModule, wasmbin.OpName(in.Op), what, in.Imm, n, in.Start)
	}
	return nil
}
