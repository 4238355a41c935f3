package meter

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/onvm-network/onvm/internal/wasm/meter/wasmbin"
)

// Instrument returns wasm rewritten so that it meters fuel and call depth as described in
// the package documentation. Errors wrap ErrInvalidModule, ErrUnsupported (naming the
// function index and opcode or the section item; a *LimitError for a module over a module
// limit, see CheckLimits), ErrAlreadyInstrumented or ErrInvalidConfig.
func Instrument(wasm []byte, cfg Config) ([]byte, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := wasmbin.Decode(wasm)
	if err != nil {
		return nil, fmt.Errorf("instrument: %w", err)
	}
	in := &instrumenter{cfg: c, m: m}
	if err := in.run(); err != nil {
		return nil, fmt.Errorf("instrument: %w", err)
	}
	return m.Encode(), nil
}

type instrumenter struct {
	cfg Config
	m   *wasmbin.Module

	types    []wasmbin.FuncType
	imports  []wasmbin.Import
	funcs    []uint32 // type index per defined function
	nImpFunc uint32
	nImpGlob uint32
	nImpMem  uint32
	nTypes   uint32 // the module's own types (addImport may append one)
	nGlobals uint32 // the module's own globals, imported and defined

	typesAdded bool // addType appended a type

	exhausted        uint32 // function index of the injected import
	fuelGlobal       uint32
	depthGlobal      uint32
	checkpointGlobal uint32
}

// renumber maps an original function index to its index after the import is added.
func (in *instrumenter) renumber(f uint32) uint32 {
	if f < in.nImpFunc {
		return f
	}
	return f + 1
}

func (in *instrumenter) payload(id byte) []byte {
	if i := in.m.Find(id); i >= 0 {
		return in.m.Sections[i].Payload
	}
	return nil
}

func (in *instrumenter) run() error {
	if in.m.Find(wasmbin.SecTag) >= 0 {
		return fmt.Errorf("%w: tag section (exceptions)", ErrUnsupported)
	}
	if err := checkLimits(in.m); err != nil {
		return err
	}
	if err := in.decodeHeader(); err != nil {
		return err
	}
	steps := []func() error{in.addImport, in.capTables, in.rewriteGlobals, in.rewriteExports, in.rewriteStart,
		in.rewriteElements, in.rewriteCode, in.rewriteCustom}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// decodeHeader decodes the type, import, function, table and memory sections and checks the
// module-level feature rules.
func (in *instrumenter) decodeHeader() error {
	var err error
	if p := in.payload(wasmbin.SecType); p != nil {
		if in.types, err = wasmbin.DecodeTypes(p); err != nil {
			return fmt.Errorf("type section: %w", err)
		}
	}
	if p := in.payload(wasmbin.SecImport); p != nil {
		if in.imports, err = wasmbin.DecodeImports(p); err != nil {
			return fmt.Errorf("import section: %w", err)
		}
	}
	in.nTypes = uint32(len(in.types))
	for i, im := range in.imports {
		if im.Module == ImportModule {
			return fmt.Errorf("%w: import %d is %q.%q", ErrAlreadyInstrumented, i, im.Module, im.Name)
		}
		switch im.Kind {
		case wasmbin.KindFunc:
			if im.TypeIdx >= uint32(len(in.types)) {
				return fmt.Errorf("%w: import %d %q.%q has type %d of %d", ErrInvalidModule, i, im.Module, im.Name, im.TypeIdx, len(in.types))
			}
			in.nImpFunc++
		case wasmbin.KindGlobal:
			in.nImpGlob++
		case wasmbin.KindMemory:
			in.nImpMem++
		}
	}
	if p := in.payload(wasmbin.SecFunction); p != nil {
		if in.funcs, err = wasmbin.DecodeFunctions(p); err != nil {
			return fmt.Errorf("function section: %w", err)
		}
	}
	for i, t := range in.funcs {
		if t >= uint32(len(in.types)) {
			return fmt.Errorf("%w: function %d has type %d of %d", ErrInvalidModule, in.nImpFunc+uint32(i), t, len(in.types))
		}
	}
	if uint64(in.nImpFunc)+uint64(len(in.funcs)) >= 1<<27 {
		return fmt.Errorf("%w: %d functions", ErrInvalidModule, uint64(in.nImpFunc)+uint64(len(in.funcs)))
	}
	tables := uint32(0)
	for _, im := range in.imports {
		if im.Kind == wasmbin.KindTable {
			tables++
		}
	}
	if p := in.payload(wasmbin.SecTable); p != nil {
		n, err := wasmbin.CountTables(p)
		if err != nil {
			return fmt.Errorf("table section: %w", err)
		}
		tables += n
	}
	if tables > MaxTables {
		return &LimitError{Limit: "tables", Value: uint64(tables), Max: MaxTables}
	}
	mems := in.nImpMem
	if p := in.payload(wasmbin.SecMemory); p != nil {
		n, err := wasmbin.CountMemories(p)
		if err != nil {
			return fmt.Errorf("memory section: %w", err)
		}
		mems += n
	}
	if mems > 1 {
		return fmt.Errorf("%w: %d memories (multi-memory)", ErrUnsupported, mems)
	}
	if p := in.payload(wasmbin.SecData); p != nil {
		if _, err := wasmbin.CheckData(p); err != nil {
			return fmt.Errorf("data section: %w", err)
		}
	}
	return nil
}

// addImport appends onvm_meter.exhausted (param i32) to the imports, reusing or adding its type.
func (in *instrumenter) addImport() error {
	ti := -1
	for i, t := range in.types {
		if bytes.Equal(t.Params, []byte{wasmbin.I32}) && len(t.Results) == 0 {
			ti = i
			break
		}
	}
	if ti < 0 {
		ti = len(in.types)
		in.types = append(in.types, wasmbin.FuncType{Params: []byte{wasmbin.I32}})
		in.m.Set(wasmbin.SecType, wasmbin.EncodeTypes(in.types))
	}
	in.exhausted = in.nImpFunc
	in.imports = append(in.imports, wasmbin.Import{
		Module: ImportModule, Name: ImportFunc, Kind: wasmbin.KindFunc,
		TypeIdx: uint32(ti), Desc: wasmbin.AppendU32(nil, uint32(ti)),
	})
	in.m.Set(wasmbin.SecImport, wasmbin.EncodeImports(in.imports))
	return nil
}

// capTables gives every defined table a maximum of at most MaxTableElements, so that
// table.grow fails (returns -1, as the spec lets it) beyond the cap on every engine.
func (in *instrumenter) capTables() error {
	p := in.payload(wasmbin.SecTable)
	if p == nil {
		return nil
	}
	out, err := wasmbin.CapTables(p, MaxTableElements)
	if err != nil {
		return fmt.Errorf("table section: %w", err)
	}
	in.m.Set(wasmbin.SecTable, out)
	return nil
}

// rewriteGlobals renumbers ref.func in initialisers and appends the fuel, depth and
// checkpoint globals.
func (in *instrumenter) rewriteGlobals() error {
	var gs []wasmbin.Global
	if p := in.payload(wasmbin.SecGlobal); p != nil {
		var err error
		if gs, err = wasmbin.DecodeGlobals(p); err != nil {
			return fmt.Errorf("global section: %w", err)
		}
	}
	for i := range gs {
		init, err := wasmbin.RewriteConstExpr(gs[i].Init, in.renumber)
		if err != nil {
			return fmt.Errorf("global %d: %w", in.nImpGlob+uint32(i), err)
		}
		gs[i].Init = init
	}
	in.nGlobals = in.nImpGlob + uint32(len(gs))
	in.fuelGlobal = in.nGlobals
	in.depthGlobal = in.fuelGlobal + 1
	in.checkpointGlobal = in.fuelGlobal + 2
	fuelInit := append(wasmbin.AppendS64([]byte{0x42}, in.cfg.InitialFuel), 0x0b)
	gs = append(gs,
		wasmbin.Global{Type: wasmbin.I64, Mutable: true, Init: fuelInit},
		wasmbin.Global{Type: wasmbin.I32, Mutable: true, Init: []byte{0x41, 0x00, 0x0b}},
		wasmbin.Global{Type: wasmbin.I64, Mutable: true, Init: fuelInit}, // checkpoint
	)
	in.m.Set(wasmbin.SecGlobal, wasmbin.EncodeGlobals(gs))
	return nil
}

func (in *instrumenter) rewriteExports() error {
	var es []wasmbin.Export
	if p := in.payload(wasmbin.SecExport); p != nil {
		var err error
		if es, err = wasmbin.DecodeExports(p); err != nil {
			return fmt.Errorf("export section: %w", err)
		}
	}
	for i := range es {
		if es[i].Name == FuelExport || es[i].Name == DepthExport || es[i].Name == CheckpointExport {
			return fmt.Errorf("%w: export %q exists", ErrAlreadyInstrumented, es[i].Name)
		}
		switch es[i].Kind {
		case wasmbin.KindFunc:
			es[i].Index = in.renumber(es[i].Index)
		case wasmbin.KindGlobal:
			// Past the module's globals are the meter's: refuse, do not export them.
			if es[i].Index >= in.nGlobals {
				return fmt.Errorf("%w: export %q is global %d of %d", ErrInvalidModule, es[i].Name, es[i].Index, in.nGlobals)
			}
		}
	}
	es = append(es,
		wasmbin.Export{Name: FuelExport, Kind: wasmbin.KindGlobal, Index: in.fuelGlobal},
		wasmbin.Export{Name: DepthExport, Kind: wasmbin.KindGlobal, Index: in.depthGlobal},
		wasmbin.Export{Name: CheckpointExport, Kind: wasmbin.KindGlobal, Index: in.checkpointGlobal},
	)
	in.m.Set(wasmbin.SecExport, wasmbin.EncodeExports(es))
	return nil
}

func (in *instrumenter) rewriteStart() error {
	p := in.payload(wasmbin.SecStart)
	if p == nil {
		return nil
	}
	f, err := wasmbin.DecodeStart(p)
	if err != nil {
		return fmt.Errorf("start section: %w", err)
	}
	in.m.Set(wasmbin.SecStart, wasmbin.AppendU32(nil, in.renumber(f)))
	return nil
}

func (in *instrumenter) rewriteElements() error {
	p := in.payload(wasmbin.SecElement)
	if p == nil {
		return nil
	}
	out, err := wasmbin.RewriteElements(p, in.renumber)
	if err != nil {
		return fmt.Errorf("element section: %w", err)
	}
	in.m.Set(wasmbin.SecElement, out)
	return nil
}

func (in *instrumenter) rewriteCode() error {
	var bodies [][]byte
	if p := in.payload(wasmbin.SecCode); p != nil {
		var err error
		if bodies, err = wasmbin.DecodeCode(p); err != nil {
			return fmt.Errorf("code section: %w", err)
		}
	}
	if len(bodies) != len(in.funcs) {
		return fmt.Errorf("%w: %d function bodies for %d functions", ErrInvalidModule, len(bodies), len(in.funcs))
	}
	if len(bodies) == 0 {
		return nil
	}
	fi := &funcInstrumenter{
		cfg: in.cfg, exhausted: in.exhausted, fuel: in.fuelGlobal, depth: in.depthGlobal,
		checkpoint: in.checkpointGlobal,
		nImpFunc:   in.nImpFunc, types: in.types[:in.nTypes], funcTypes: in.funcTypes(),
		globals: in.nGlobals, addType: in.addType,
	}
	out := make([][]byte, len(bodies))
	for i, body := range bodies {
		idx := in.nImpFunc + uint32(i)
		b, err := fi.instrument(body, in.types[in.funcs[i]])
		if err != nil {
			return fmt.Errorf("function %d (defined function %d): %w", idx, i, err)
		}
		out[i] = b
	}
	in.m.Set(wasmbin.SecCode, wasmbin.EncodeCode(out))
	if in.typesAdded {
		in.m.Set(wasmbin.SecType, wasmbin.EncodeTypes(in.types))
	}
	return nil
}

// addType returns the index of a type [] -> results, appending one past the module's own
// types and the import's if none exists.
func (in *instrumenter) addType(results []byte) uint32 {
	for i, t := range in.types {
		if len(t.Params) == 0 && bytes.Equal(t.Results, results) {
			return uint32(i)
		}
	}
	in.types = append(in.types, wasmbin.FuncType{Results: results})
	in.typesAdded = true
	return uint32(len(in.types) - 1)
}

// funcTypes returns the type index of every function in the original index space.
func (in *instrumenter) funcTypes() []uint32 {
	ts := make([]uint32, 0, int(in.nImpFunc)+len(in.funcs))
	for _, im := range in.imports {
		if im.Kind == wasmbin.KindFunc && im.Module != ImportModule {
			ts = append(ts, im.TypeIdx)
		}
	}
	return append(ts, in.funcs...)
}

// rewriteCustom renumbers the name section and drops DWARF sections, whose code offsets the
// rewrite invalidates. A name section that does not parse exactly (see wasmbin.RewriteNames)
// is dropped, and so is every name section after the first: names carry no semantics, and
// engines read a malformed one differently (wazero reads subsections by their contents, not
// their sizes), so re-encoding it could change what it says or make the output unreadable.
func (in *instrumenter) rewriteCustom() error {
	in.keepNames(in.renumber, true)
	return nil
}

// keepNames drops the name sections that do not parse exactly and every one after the first,
// and, if rewrite, renumbers the one kept with fn and drops DWARF sections.
func (in *instrumenter) keepNames(fn func(uint32) uint32, rewrite bool) (dropped bool) {
	kept := in.m.Sections[:0]
	named := false
	funcs := in.nImpFunc + uint32(len(in.funcs))
	for _, s := range in.m.Sections {
		if s.ID == wasmbin.SecCustom {
			if rewrite && strings.HasPrefix(s.Name, ".debug_") {
				continue
			}
			if s.Name == "name" {
				p, err := wasmbin.RewriteNames(s.Payload, fn, funcs)
				if named || err != nil {
					dropped = true
					continue
				}
				named = true
				if rewrite {
					s.Payload = p
				}
			}
		}
		kept = append(kept, s)
	}
	in.m.Sections = kept
	return dropped
}

// DropBadNames returns wasm without the name sections Instrument would drop (those that do
// not parse exactly, and every one after the first), or wasm itself if there are none or
// its header does not decode. Validate refuses such a section, since wazero's decoder would
// read it by its contents; DropBadNames lets a caller hand the engine the rest of a module
// that Instrument accepts.
func DropBadNames(wasm []byte) []byte {
	m, err := wasmbin.Decode(wasm)
	if err != nil {
		return wasm
	}
	in := &instrumenter{m: m}
	if in.decodeHeader() != nil {
		return wasm
	}
	if !in.keepNames(func(f uint32) uint32 { return f }, false) {
		return wasm
	}
	return m.Encode()
}
