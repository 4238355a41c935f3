package meter

import (
	"bytes"
	"testing"
)

type diffCase struct {
	module string
	fn     string
	args   []uint64
}

var diffCorpus = []diffCase{
	{"compute.wasm", "mergesort", []uint64{1000}},
	{"compute.wasm", "mergesort", []uint64{1}},
	{"compute.wasm", "intloop", []uint64{10000}},
	{"compute.wasm", "floatloop", []uint64{10000}},
	{"compute.wasm", "min_zero", nil},
	{"fuel.wasm", "count", []uint64{100}},
	{"fuel.wasm", "ifelse", []uint64{3}},
	{"fuel.wasm", "switch", []uint64{2}},
	{"fuel.wasm", "call_indirect", []uint64{1, 2, 0}},
	{"fuel.wasm", "call_indirect", []uint64{1, 2, 3}}, // null entry: trap
	{"fuel.wasm", "fib", []uint64{15}},
	{"fuel.wasm", "divtrap", []uint64{0}},
	{"fuel.wasm", "grow", []uint64{2}},
	{"fuel.wasm", "fill", []uint64{1000}},
	{"fuel.wasm", "copy", []uint64{1000}},
	{"fuel.wasm", "minit", []uint64{36}},
	{"fuel.wasm", "minit", []uint64{37}}, // out of bounds: trap
	{"fuel.wasm", "tinit", []uint64{3}},
	{"fuel.wasm", "tcopy", []uint64{3}},
	{"depth.wasm", "rec", []uint64{500}},
}

// TestDifferential runs each corpus entry uninstrumented and instrumented on both engines:
// results, trap-or-not and final memory must match, and fuel must match across engines.
func TestDifferential(t *testing.T) {
	for _, dc := range diffCorpus {
		src := readTestdata(t, dc.module)
		inst := mustInstrument(t, src, DefaultConfig())
		fuel := map[string]int64{}
		for _, eng := range engines {
			raw := newInstance(t, eng.cfg(), src)
			met := newInstance(t, eng.cfg(), inst)
			rres, _, rerr := raw.call(t, dc.fn, 0, dc.args...)
			mres, used, merr := met.call(t, dc.fn, 1<<50, dc.args...)
			name := eng.name + "/" + dc.module + "/" + dc.fn
			if (rerr != nil) != (merr != nil) {
				t.Errorf("%s%v: raw err %v, metered err %v", name, dc.args, rerr, merr)
			}
			if !equalU64(rres, mres) {
				t.Errorf("%s%v: raw %v, metered %v", name, dc.args, rres, mres)
			}
			if rm, mm := raw.mod.ExportedMemory("memory"), met.mod.ExportedMemory("memory"); rm != nil {
				rb, _ := rm.Read(0, rm.Size())
				mb, _ := mm.Read(0, mm.Size())
				if !bytes.Equal(rb, mb) {
					t.Errorf("%s%v: memories differ", name, dc.args)
				}
			}
			fuel[eng.name] = used
		}
		if fuel["compiler"] != fuel["interpreter"] {
			t.Errorf("%s/%s%v: fuel compiler %d, interpreter %d", dc.module, dc.fn, dc.args, fuel["compiler"], fuel["interpreter"])
		}
	}
}

// TestSegmentsMatchPerInstruction: on complete runs the segment algorithm charges exactly
// what charging every instruction separately charges.
func TestSegmentsMatchPerInstruction(t *testing.T) {
	every := DefaultConfig()
	every.everyInstruction = true
	for _, dc := range diffCorpus {
		if dc.module == "depth.wasm" {
			continue // per-instruction checks around 1000 live locals take the compiler ~20 s
		}
		src := readTestdata(t, dc.module)
		seg := newInstance(t, engines[0].cfg(), mustInstrument(t, src, DefaultConfig()))
		per := newInstance(t, engines[0].cfg(), mustInstrument(t, src, every))
		_, su, serr := seg.call(t, dc.fn, 1<<50, dc.args...)
		_, pu, perr := per.call(t, dc.fn, 1<<50, dc.args...)
		if serr != nil || perr != nil {
			continue // a trap ends per-instruction charging early by design
		}
		if su != pu {
			t.Errorf("%s/%s%v: segments %d, per-instruction %d", dc.module, dc.fn, dc.args, su, pu)
		}
	}
}
