package meter

import (
	"testing"
)

// TestFuelExact checks hand-computed fuel for small programs on both engines, and that the
// segment algorithm charges exactly what per-instruction charging charges.
func TestFuelExact(t *testing.T) {
	src := readTestdata(t, "fuel.wasm")
	const budget = 1 << 40
	tests := []struct {
		name   string
		fn     string
		args   []uint64
		want   []uint64
		fuel   int64
		reason int32 // exhausted reason expected, 0 = none
		trap   bool  // another trap expected
	}{
		{name: "empty", fn: "empty", fuel: 0},
		{name: "add", fn: "add", args: []uint64{2, 3}, want: []uint64{5}, fuel: 3},
		{name: "loop n=0", fn: "count", args: []uint64{0}, want: []uint64{0}, fuel: 5},
		{name: "loop n=1", fn: "count", args: []uint64{1}, want: []uint64{1}, fuel: 14},
		{name: "loop n=10", fn: "count", args: []uint64{10}, want: []uint64{10}, fuel: 95},
		{name: "ifelse then", fn: "ifelse", args: []uint64{5}, want: []uint64{5 + 10 + 1 + 100}, fuel: 9},
		{name: "ifelse else", fn: "ifelse", args: []uint64{0}, want: []uint64{0 + 20 + 300}, fuel: 10},
		{name: "ifonly then", fn: "ifonly", args: []uint64{1}, want: []uint64{1}, fuel: 7},
		{name: "ifonly skip", fn: "ifonly", args: []uint64{0}, want: []uint64{0}, fuel: 3},
		{name: "br_table 0", fn: "switch", args: []uint64{0}, want: []uint64{10}, fuel: 3},
		{name: "br_table 1", fn: "switch", args: []uint64{1}, want: []uint64{11}, fuel: 3},
		{name: "br_table default", fn: "switch", args: []uint64{9}, want: []uint64{12}, fuel: 3},
		{name: "call", fn: "call", args: []uint64{4, 5}, want: []uint64{9}, fuel: 6},
		{name: "call_indirect", fn: "call_indirect", args: []uint64{9, 4, 1}, want: []uint64{5}, fuel: 7},
		{name: "nested blocks", fn: "nested", want: []uint64{6}, fuel: 5},
		{name: "br to function label", fn: "br_func", want: []uint64{7}, fuel: 2},
		{name: "trap mid-segment charges the whole segment", fn: "divtrap", args: []uint64{0}, fuel: 5, trap: true},
		{name: "no trap", fn: "divtrap", args: []uint64{1}, want: []uint64{2}, fuel: 5},
		{name: "free ops", fn: "free", fuel: 1, trap: true},
		{name: "grow 0", fn: "grow", args: []uint64{0}, want: []uint64{1}, fuel: 2},
		{name: "grow 3", fn: "grow", args: []uint64{3}, want: []uint64{1}, fuel: 2 + 3*4096},
		{name: "grow fails but is charged", fn: "grow", args: []uint64{70000}, want: []uint64{0xffffffff}, fuel: 2 + 70000*4096},
		{name: "fill 0", fn: "fill", args: []uint64{0}, fuel: 4},
		{name: "fill 1", fn: "fill", args: []uint64{1}, fuel: 5},
		{name: "fill 16", fn: "fill", args: []uint64{16}, fuel: 5},
		{name: "fill 17", fn: "fill", args: []uint64{17}, fuel: 6},
		{name: "fill 65536", fn: "fill", args: []uint64{65536}, fuel: 4 + 4096},
		{name: "fill out of bounds is charged then traps", fn: "fill", args: []uint64{300000}, fuel: 4 + 18750, trap: true},
		{name: "copy 100", fn: "copy", args: []uint64{100}, fuel: 4 + 7},
		{name: "minit 20", fn: "minit", args: []uint64{20}, fuel: 4 + 2},
		{name: "table.grow 5", fn: "tgrow", args: []uint64{5}, want: []uint64{4}, fuel: 3 + 5},
		{name: "table.fill 3", fn: "tfill", args: []uint64{3}, fuel: 4 + 3},
		{name: "table.copy 2", fn: "tcopy", args: []uint64{2}, fuel: 4 + 2},
		{name: "table.init 3", fn: "tinit", args: []uint64{3}, fuel: 4 + 3},
		// fib(n) = per call: entry 4 (get const lt_u if), leaf: get = 1 -> 5;
		// inner: get const sub call (4) + get const sub call (4) + add (1) = 9 -> 13.
		// fib(2): 13 + 5 + 5 = 23
		{name: "fib 2", fn: "fib", args: []uint64{2}, want: []uint64{1}, fuel: 23},
	}
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			for _, every := range []bool{false, true} {
				cfg := DefaultConfig()
				cfg.everyInstruction = every
				in := newInstance(t, eng.cfg(), mustInstrument(t, src, cfg))
				for _, tt := range tests {
					res, used, err := in.call(t, tt.fn, budget, tt.args...)
					if got := reasonOf(err); got != tt.reason {
						t.Errorf("%s (every=%v): reason %d, want %d (err %v)", tt.name, every, got, tt.reason, err)
					}
					if (err != nil) != (tt.trap || tt.reason != 0) {
						t.Errorf("%s (every=%v): err %v, want trap=%v", tt.name, every, err, tt.trap)
					}
					// Per-instruction charging stops at a trapping instruction; segments do not.
					if used != tt.fuel && !(every && tt.trap) {
						t.Errorf("%s (every=%v): fuel %d, want %d", tt.name, every, used, tt.fuel)
					}
					if err == nil && !equalU64(res, tt.want) {
						t.Errorf("%s: results %v, want %v", tt.name, res, tt.want)
					}
				}
			}
		})
	}
}

func equalU64(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
