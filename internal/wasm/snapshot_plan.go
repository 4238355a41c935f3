package wasm

import (
	"fmt"
	"strconv"

	"github.com/onvm-network/onvm/internal/wasm/meter"
	"github.com/onvm-network/onvm/internal/wasm/meter/wasmbin"
)

// snapshotPlan says how the runtime runs a reactor (a module exporting
// _initialize) from a snapshot of its state after _initialize instead of
// instantiating it and running _initialize on every call (see
// docs/rationale/runtime.md, "Why snapshots after _initialize?").
//
// The runtime compiles a variant of the module, derived deterministically
// from the instrumented code and never stored or signed: the data section
// is removed (wazero evaluates every segment's offset on every
// instantiation: the Go linker emits ~22 000 segments, ~1.5 ms per call)
// and every mutable global the module defines is exported as onvm_g<index>
// so that its value can be read after _initialize and restored. The
// runtime applies the data segments itself, once, to the instance that
// runs _initialize.
//
// A module gets a plan only if a fresh instance of the variant plus the
// snapshot's memory and globals is exactly the instance _initialize left:
// no instruction that changes a table or a segment (table.set, table.grow,
// table.fill, table.copy, table.init, elem.drop, memory.init, data.drop),
// no imported memory, table or global, one memory, every data segment
// active at an i32.const offset inside the initial memory. Others run
// _initialize per call, with the same results.
type snapshotPlan struct {
	segments    []dataSegment // active data segments, in order
	dataBytes   int64         // their total size (cache accounting)
	globalNames []string      // the variant's exports of the module's mutable globals
}

type dataSegment struct {
	offset uint32
	init   []byte
}

// globalExportPrefix names the exports the variant adds for mutable globals.
const globalExportPrefix = "onvm_g"

// isStateOp reports the instructions that change instance state other than
// memory and globals (memory.init also reads the data segments the variant
// drops).
func isStateOp(op wasmbin.Op) bool {
	switch op {
	case 0x26, // table.set
		wasmbin.OpMemoryInit,
		0xfc09, // data.drop
		wasmbin.OpTableInit,
		0xfc0d, // elem.drop
		wasmbin.OpTableCopy,
		wasmbin.OpTableGrow,
		wasmbin.OpTableFill:
		return true
	}
	return false
}

// planSnapshot returns the plan and the variant to compile for code, which
// admit accepted, or a nil plan and the reason when code must run
// _initialize per call (or has none).
func planSnapshot(code []byte) (*snapshotPlan, []byte, string) {
	m, err := wasmbin.Decode(code)
	if err != nil {
		return nil, nil, err.Error()
	}
	var (
		exports []wasmbin.Export
		globals []wasmbin.Global
		memMins []uint32
		data    []wasmbin.DataSegment
	)
	for _, s := range m.Sections {
		switch s.ID {
		case wasmbin.SecImport:
			imps, err := wasmbin.DecodeImports(s.Payload)
			if err != nil {
				return nil, nil, err.Error()
			}
			for _, im := range imps {
				if im.Kind != wasmbin.KindFunc {
					return nil, nil, fmt.Sprintf("imports %s.%s (kind %d)", im.Module, im.Name, im.Kind)
				}
			}
		case wasmbin.SecMemory:
			if memMins, err = wasmbin.MemoryMins(s.Payload); err != nil {
				return nil, nil, err.Error()
			}
		case wasmbin.SecGlobal:
			if globals, err = wasmbin.DecodeGlobals(s.Payload); err != nil {
				return nil, nil, err.Error()
			}
		case wasmbin.SecExport:
			if exports, err = wasmbin.DecodeExports(s.Payload); err != nil {
				return nil, nil, err.Error()
			}
		case wasmbin.SecCode:
			if op, ok, err := findStateOp(s.Payload); err != nil || ok {
				if err != nil {
					return nil, nil, err.Error()
				}
				return nil, nil, "uses " + wasmbin.OpName(op)
			}
		case wasmbin.SecData:
			if data, err = wasmbin.DecodeData(s.Payload); err != nil {
				return nil, nil, err.Error()
			}
		}
	}
	names := map[string]bool{}
	initialize := false
	for _, e := range exports {
		names[e.Name] = true
		initialize = initialize || (e.Name == InitializeExport && e.Kind == wasmbin.KindFunc)
	}
	switch {
	case !initialize:
		return nil, nil, "no " + InitializeExport
	case len(memMins) != 1:
		return nil, nil, fmt.Sprintf("%d memories", len(memMins))
	}
	plan := &snapshotPlan{}
	limit := uint64(memMins[0]) * pageSize
	for i, d := range data {
		if d.Passive() {
			continue // unreachable without memory.init
		}
		off, ok := wasmbin.I32ConstExpr(d.Offset)
		if !ok || uint64(uint32(off))+uint64(len(d.Init)) > limit {
			return nil, nil, fmt.Sprintf("data segment %d is not at an i32.const offset inside the initial memory", i)
		}
		if len(d.Init) > 0 {
			plan.segments = append(plan.segments, dataSegment{offset: uint32(off), init: append([]byte(nil), d.Init...)})
			plan.dataBytes += int64(len(d.Init))
		}
	}
	meterGlobals := map[uint32]bool{}
	for _, e := range exports {
		if e.Kind == wasmbin.KindGlobal && (e.Name == meter.FuelExport || e.Name == meter.DepthExport || e.Name == meter.CheckpointExport) {
			meterGlobals[e.Index] = true
		}
	}
	for i, g := range globals {
		idx := uint32(i) // no imported globals
		if !g.Mutable || meterGlobals[idx] {
			continue
		}
		name := globalExportPrefix + strconv.FormatUint(uint64(idx), 10)
		if names[name] {
			return nil, nil, "already exports " + name
		}
		plan.globalNames = append(plan.globalNames, name)
		exports = append(exports, wasmbin.Export{Name: name, Kind: wasmbin.KindGlobal, Index: idx})
	}
	variant := &wasmbin.Module{}
	for _, s := range m.Sections {
		if s.ID != wasmbin.SecData && s.ID != wasmbin.SecDataCount {
			variant.Sections = append(variant.Sections, s)
		}
	}
	variant.Set(wasmbin.SecExport, wasmbin.EncodeExports(exports))
	return plan, variant.Encode(), ""
}

// findStateOp reports the first instruction isStateOp accepts in the code section.
func findStateOp(p []byte) (wasmbin.Op, bool, error) {
	bodies, err := wasmbin.DecodeCode(p)
	if err != nil {
		return 0, false, err
	}
	var labels []uint32
	for _, body := range bodies {
		r := wasmbin.NewReader(body)
		groups, err := r.U32()
		if err != nil {
			return 0, false, err
		}
		for g := uint32(0); g < groups; g++ {
			if _, err := r.U32(); err != nil {
				return 0, false, err
			}
			if _, err := r.Byte(); err != nil {
				return 0, false, err
			}
		}
		for r.Len() > 0 {
			var in wasmbin.Instr
			if in, labels, err = wasmbin.DecodeInstr(r, labels[:0]); err != nil {
				return 0, false, err
			}
			if isStateOp(in.Op) {
				return in.Op, true, nil
			}
		}
	}
	return 0, false, nil
}
