package wasm

import (
	"slices"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Export names with a meaning to the runtime.
const (
	MemoryExport     = "memory"      // the linear memory; required
	InitializeExport = "_initialize" // () -> (); called once per instance when exported (WASI reactors)
	AllocExport      = "onvm_alloc"  // (size i32) -> i32; when exported, the input is placed where it returns
)

// Convention is one of the three entrypoint calling conventions of the
// original (notes §5.2), detected from the export's type.
type Convention uint8

const (
	ConvMultiValue Convention = iota + 1 // (ptr i32, len i32) -> (out_ptr i32, out_len i32)
	ConvPacked                           // (ptr i32, len i32) -> i64: out_ptr high 32 bits, out_len low
	ConvSret                             // (sret i32, ptr i32, len i32) -> (); out_ptr, out_len as i32 LE at sret
)

func (c Convention) String() string {
	switch c {
	case ConvMultiValue:
		return "multi_value"
	case ConvPacked:
		return "packed_i64"
	case ConvSret:
		return "sret"
	}
	return "none"
}

// MarshalText encodes the convention as its String form.
func (c Convention) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// conventionOf returns the calling convention of a function type, or 0.
func conventionOf(params, results []api.ValueType) Convention {
	switch {
	case slices.Equal(params, sig(i32, i32)) && slices.Equal(results, sig(i32, i32)):
		return ConvMultiValue
	case slices.Equal(params, sig(i32, i32)) && slices.Equal(results, sig(i64)):
		return ConvPacked
	case slices.Equal(params, sig(i32, i32, i32)) && len(results) == 0:
		return ConvSret
	}
	return 0
}

// moduleInfo is what Run needs to know about a compiled module, computed
// once per cache entry.
type moduleInfo struct {
	funcs      map[string]api.FunctionDefinition
	memoryMin  uint32 // pages
	hasMemory  bool
	initialize bool // exports _initialize as () -> ()
	alloc      bool // exports onvm_alloc as (i32) -> i32
}

func inspect(m wazero.CompiledModule) *moduleInfo {
	info := &moduleInfo{funcs: m.ExportedFunctions()}
	if mem, ok := m.ExportedMemories()[MemoryExport]; ok {
		info.hasMemory = true
		info.memoryMin = mem.Min()
	}
	if d, ok := info.funcs[InitializeExport]; ok {
		info.initialize = len(d.ParamTypes()) == 0 && len(d.ResultTypes()) == 0
	}
	if d, ok := info.funcs[AllocExport]; ok {
		info.alloc = slices.Equal(d.ParamTypes(), sig(i32)) && slices.Equal(d.ResultTypes(), sig(i32))
	}
	return info
}

// entrypointMessage is the original's error for a missing or mistyped entrypoint.
func entrypointMessage(name string) string {
	return "program must export " + name + " as (i32,i32)->(i32,i32), (i32,i32)->i64, or (i32,i32,i32)->() with sret"
}
