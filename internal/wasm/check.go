package wasm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/onvm-network/onvm/internal/wasm/meter"
	"github.com/onvm-network/onvm/internal/wasm/meter/wasmbin"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// MaxCodeSize is the largest module Check, Prepare and Run accept (Run: the
// instrumented module).
const MaxCodeSize = 32 << 20

// funcSig is a function type.
type funcSig struct{ params, results []api.ValueType }

func (f funcSig) String() string { return typeString(f.params, f.results) }

func typeString(params, results []api.ValueType) string {
	names := func(ts []api.ValueType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = api.ValueTypeName(t)
		}
		return strings.Join(s, ",")
	}
	return "(" + names(params) + ")->(" + names(results) + ")"
}

// Report describes a module as Check sees it; the CLI prints it as JSON.
type Report struct {
	OK         bool       `json:"ok"`
	Size       int        `json:"size"`
	Entrypoint string     `json:"entrypoint,omitempty"`
	Convention Convention `json:"convention,omitempty"`
	Initialize bool       `json:"initialize"` // exports _initialize: called before every call
	Allocator  bool       `json:"allocator"`  // exports onvm_alloc: receives the input
	Memory     *Memory    `json:"memory,omitempty"`
	Imports    []Item     `json:"imports"`
	Exports    []Item     `json:"exports"`
	Warnings   []string   `json:"warnings,omitempty"`
	Problems   []string   `json:"problems,omitempty"` // why the module is rejected; empty when OK

	limit string // the module limit exceeded (meter.LimitError), reported first
}

// Memory is the exported memory's limits in 64 KiB pages.
type Memory struct {
	MinPages uint32  `json:"min_pages"`
	MaxPages *uint32 `json:"max_pages,omitempty"`
}

// Item is one import or export.
type Item struct {
	Module string `json:"module,omitempty"` // imports only
	Name   string `json:"name"`
	Kind   string `json:"kind"`           // func, table, memory, global
	Type   string `json:"type,omitempty"` // functions: (params)->(results)
}

var kindText = map[byte]string{wasmbin.KindFunc: "func", wasmbin.KindTable: "table", wasmbin.KindMemory: "memory", wasmbin.KindGlobal: "global", wasmbin.KindTag: "tag"}

// Check validates a module for deployment: it decodes it, lists its imports
// and exports, accepts only imports of the host ABI (env.onvm_* with the
// original signatures, wasi_snapshot_preview1.*), requires an exported
// memory and, when entrypoint is not empty, an entrypoint of one of the
// three calling conventions, rejects start functions and the features that
// break determinism (SIMD, threads), and compiles it. The report is
// returned whenever the module's header decodes; the error, of kind
// KindInvalidModule, names the first problem.
func Check(wasm []byte, entrypoint string) (*Report, error) {
	release, _ := slot(context.Background()) // never fails
	defer release()
	rep, _ := check(wasm, entrypoint)
	return rep, rep.err()
}

// check is Check, also returning the instrumented module when it succeeds;
// the caller holds a preparation slot.
// The module is instrumented before wazero compiles it: Instrument's decoder
// bounds every count by the bytes present, so wazero only ever sees bytes
// that passed it (see admit).
func check(wasm []byte, entrypoint string) (*Report, []byte) {
	rep := &Report{Size: len(wasm), Entrypoint: entrypoint, Imports: []Item{}, Exports: []Item{}}
	if len(wasm) > MaxCodeSize {
		rep.problem("module is %d bytes, the limit is %d", len(wasm), MaxCodeSize)
		return rep, nil
	}
	mod, err := wasmbin.Decode(wasm)
	if err != nil {
		rep.problem("decode: %v", err)
		return rep, nil
	}
	rep.inspect(mod)
	// Instrument checks the module limits first (meter.CheckLimits), so a
	// module over one is refused before anything is compiled.
	out, err := meter.Instrument(wasm, meter.DefaultConfig())
	if err != nil {
		var le *meter.LimitError
		if errors.As(err, &le) {
			rep.Problems = append([]string{firstLine(err)}, rep.Problems...)
			rep.limit = le.Limit
		} else if !errors.Is(err, meter.ErrAlreadyInstrumented) { // inspect said so
			rep.problem("invalid module: %s", firstLine(err))
		}
		return rep, nil
	}
	// The engine validates the original, minus any name section Instrument dropped.
	rep.compile(meter.DropBadNames(wasm))
	return rep, out
}

func (rep *Report) problem(format string, args ...any) {
	rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...))
}

func (rep *Report) err() error {
	rep.OK = len(rep.Problems) == 0
	if rep.OK {
		return nil
	}
	msg := rep.Problems[0]
	if n := len(rep.Problems); n > 1 {
		msg += fmt.Sprintf(" (and %d more problems)", n-1)
	}
	return &Error{Kind: KindInvalidModule, Message: msg, Limit: rep.limit}
}

// inspect checks imports, exports and the start section.
func (rep *Report) inspect(mod *wasmbin.Module) {
	var (
		types   []wasmbin.FuncType
		imports []wasmbin.Import
		funcs   []uint32
		exports []wasmbin.Export
	)
	for _, sec := range mod.Sections {
		var err error
		switch sec.ID {
		case wasmbin.SecType:
			types, err = wasmbin.DecodeTypes(sec.Payload)
		case wasmbin.SecImport:
			imports, err = wasmbin.DecodeImports(sec.Payload)
		case wasmbin.SecFunction:
			funcs, err = wasmbin.DecodeFunctions(sec.Payload)
		case wasmbin.SecExport:
			exports, err = wasmbin.DecodeExports(sec.Payload)
		case wasmbin.SecStart:
			var f uint32
			if f, err = wasmbin.DecodeStart(sec.Payload); err == nil {
				rep.problem("start function %d: a start function runs before fuel is set; export it as _initialize instead", f)
			}
		}
		if err != nil {
			rep.problem("decode section %d: %v", sec.ID, err)
			return
		}
	}
	typeOf := func(idx uint32) (funcSig, bool) {
		if idx >= uint32(len(types)) {
			return funcSig{}, false
		}
		t := types[idx]
		return funcSig{valueTypes(t.Params), valueTypes(t.Results)}, true
	}

	var funcTypes []uint32 // function index space -> type index
	for _, im := range imports {
		it := Item{Module: im.Module, Name: im.Name, Kind: kindText[im.Kind]}
		if im.Kind != wasmbin.KindFunc {
			rep.problem("import %s.%s: only functions can be imported, not a %s", im.Module, im.Name, it.Kind)
			rep.Imports = append(rep.Imports, it)
			continue
		}
		funcTypes = append(funcTypes, im.TypeIdx)
		got, ok := typeOf(im.TypeIdx)
		if !ok {
			rep.problem("import %s.%s: type index %d out of range", im.Module, im.Name, im.TypeIdx)
			continue
		}
		it.Type = got.String()
		rep.Imports = append(rep.Imports, it)
		rep.checkImport(im.Module, im.Name, got)
	}
	funcTypes = append(funcTypes, funcs...)

	hasMemory := false
	for _, ex := range exports {
		it := Item{Name: ex.Name, Kind: kindText[ex.Kind]}
		var fs funcSig
		if ex.Kind == wasmbin.KindFunc && ex.Index < uint32(len(funcTypes)) {
			fs, _ = typeOf(funcTypes[ex.Index])
			it.Type = fs.String()
		}
		rep.Exports = append(rep.Exports, it)
		switch {
		case ex.Name == MemoryExport && ex.Kind == wasmbin.KindMemory:
			hasMemory = true
		case ex.Name == meter.FuelExport || ex.Name == meter.DepthExport || ex.Name == meter.CheckpointExport:
			rep.problem("export %s: the name is reserved for the meter", ex.Name)
		case ex.Name == InitializeExport && ex.Kind == wasmbin.KindFunc:
			rep.Initialize = true
			if len(fs.params) != 0 || len(fs.results) != 0 {
				rep.problem("export %s has type %s, want ()->()", ex.Name, fs)
			}
		case ex.Name == AllocExport && ex.Kind == wasmbin.KindFunc:
			rep.Allocator = true
			if !slices.Equal(fs.params, sig(i32)) || !slices.Equal(fs.results, sig(i32)) {
				rep.problem("export %s has type %s, want (i32)->(i32)", ex.Name, fs)
			}
		}
		if ex.Name == rep.Entrypoint {
			if ex.Kind != wasmbin.KindFunc {
				rep.problem("entrypoint %s is a %s, not a function", ex.Name, it.Kind)
			} else if rep.Convention = conventionOf(fs.params, fs.results); rep.Convention == 0 {
				rep.problem("%s (it is %s)", entrypointMessage(ex.Name), fs)
			}
		}
	}
	if !hasMemory {
		rep.problem("program missing exported memory (export it as %q)", MemoryExport)
	}
	if rep.Entrypoint != "" && !slices.ContainsFunc(exports, func(e wasmbin.Export) bool { return e.Name == rep.Entrypoint }) {
		rep.problem("%s (no such export)", entrypointMessage(rep.Entrypoint))
	}
	if !rep.Allocator && rep.Initialize && len(imports) > 0 && slices.ContainsFunc(imports, func(im wasmbin.Import) bool { return im.Module == WASIModule }) {
		rep.Warnings = append(rep.Warnings, "no onvm_alloc export: the input goes into pages grown at the end of memory, which a Go runtime does not know about and may reuse; export onvm_alloc")
	}
}

// checkImport accepts the host ABI and nothing else.
func (rep *Report) checkImport(module, name string, got funcSig) {
	var want funcSig
	switch module {
	case HostModule:
		i := slices.IndexFunc(hostFuncs, func(h hostFunc) bool { return h.name == name })
		if i < 0 {
			rep.problem("import %s.%s is not a host function of the ONVM ABI", module, name)
			return
		}
		want = funcSig{hostFuncs[i].params, hostFuncs[i].results}
	case WASIModule:
		w, ok := wasiFuncs[name]
		if !ok {
			rep.problem("import %s.%s is not a WASI preview 1 function", module, name)
			return
		}
		want = w
	case meter.ImportModule:
		rep.problem("import %s.%s: the module is already instrumented; deploy the original", module, name)
		return
	default:
		rep.problem("import %s.%s: unknown module %q (only %s and %s can be imported)", module, name, module, HostModule, WASIModule)
		return
	}
	if !slices.Equal(got.params, want.params) || !slices.Equal(got.results, want.results) {
		rep.problem("import %s.%s has type %s, the host ABI declares %s", module, name, got, want)
	}
}

// compile validates the whole module with wazero under the allowed
// features; its error names the offending feature or instruction.
func (rep *Report) compile(wasm []byte) {
	cm, err := validate(wasm)
	if err != nil {
		rep.problem("invalid module: %s", firstLine(err))
		return
	}
	if m, ok := cm.ExportedMemories()[MemoryExport]; ok {
		rep.Memory = &Memory{MinPages: m.Min()}
		if max, ok := m.Max(); ok {
			rep.Memory.MaxPages = &max
		}
		if uint64(m.Min())*pageSize > MaxMemoryLimit {
			rep.problem("memory needs %d pages, more than the %d-byte ceiling", m.Min(), MaxMemoryLimit)
		}
	}
}

func valueTypes(b []byte) []api.ValueType {
	ts := make([]api.ValueType, len(b))
	for i, t := range b {
		ts[i] = api.ValueType(t)
	}
	return ts
}

// prepareSlots bounds the preparations running at once in the process (as
// Config.CompileConcurrency bounds compilations): a preparation decodes,
// checks the limits, instruments and validates a module, all of it
// proportional to the module's size, which may be MaxCodeSize. Deploys and
// peers verifying manifests prepare; without the bound the deploying node's
// memory grew with its concurrent deploys (eight of a module of 30 MB of
// data at once: +1 GiB). A preparation is bounded in time by the module
// limits, so a wait is too.
var prepareSlots = make(chan struct{}, DefaultCompileConcurrency())

// preparing counts the preparations holding a slot and validating the
// validations running; prepareHook and validateHook (nil but in tests) run
// inside each: tests hold preparations and validations there.
var (
	preparing, validating     atomic.Int32
	prepareHook, validateHook func()
)

// slot waits for one of prepareSlots; release gives it back.
func slot(ctx context.Context) (release func(), err error) {
	select {
	case prepareSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait to prepare the module: %w", ctx.Err())
	}
	preparing.Add(1)
	if prepareHook != nil {
		prepareHook()
	}
	return func() { preparing.Add(-1); <-prepareSlots }, nil
}

// validate compiles wasm with wazero's interpreter (the cheapest full
// validation) under the allowed features, once admit has accepted it. The
// caller holds a preparation slot.
func validate(wasm []byte) (wazero.CompiledModule, error) {
	if err := admit(wasm); err != nil {
		return nil, err
	}
	validating.Add(1)
	defer validating.Add(-1)
	if validateHook != nil {
		validateHook()
	}
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter().WithCoreFeatures(coreFeatures))
	defer r.Close(ctx) //nolint:errcheck // nothing to report
	return r.CompileModule(ctx, wasm)
}
