package meter

import (
	"errors"
	"runtime"
	"testing"

	"github.com/onvm-network/onvm/internal/wasm/meter/wasmbin"
)

// growBody grows table 0 by 1000 null references per iteration. If stop, it stops at the
// first failed grow and returns table.size; else it loops until the fuel runs out.
func growBody(stop bool) []byte {
	b := []byte{0x03, 0x40, // loop
		0xd0, wasmbin.FuncRef, 0x41, 0xe8, 0x07, 0xfc, 0x0f, 0x00} // ref.null func; i32.const 1000; table.grow 0
	if stop {
		b = append(b, 0x41, 0x7f, 0x47, 0x0d, 0x00) // i32.const -1; i32.ne; br_if 0
		return append(b, 0x0b, 0xfc, 0x10, 0x00)    // end; table.size 0
	}
	return append(b, 0x1a, 0x0c, 0x00, 0x0b, 0x41, 0x00) // drop; br 0; end; i32.const 0
}

// TestTableGrowCapped: a table.grow loop ends at the table cap (grow returns -1) or out of
// fuel, without the engine allocating more than the cap's worth of references. Without the
// cap, 5 million fuel grew a table to 5 million elements (40 MB in wazero).
func TestTableGrowCapped(t *testing.T) {
	const budget = 5_000_000
	for _, eng := range engines {
		for _, stop := range []bool{true, false} {
			out := mustInstrument(t, testModule(tI32, growBody(stop)), DefaultConfig())
			in := newInstance(t, eng.cfg(), out)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			res, _, err := in.call(t, "f", budget)
			runtime.ReadMemStats(&after)
			if stop {
				if err != nil || len(res) != 1 || res[0] > MaxTableElements {
					t.Errorf("%s: grow until refused: %v, %v; want a size of at most %d", eng.name, res, err, MaxTableElements)
				}
			} else if reasonOf(err) != ReasonOutOfFuel {
				t.Errorf("%s: grow forever: %v, want out of fuel", eng.name, err)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
				t.Errorf("%s (stop %t): the call allocated %d MiB", eng.name, stop, grew>>20)
			}
		}
	}
}

// TestTableLimits: a table declaring more than MaxTableElements, or more than MaxTables
// tables, is refused; a declared maximum above the cap is lowered to it.
func TestTableLimits(t *testing.T) {
	withTables := func(p []byte) []byte {
		m, err := wasmbin.Decode(testModule(tVoid, nil))
		if err != nil {
			t.Fatal(err)
		}
		m.Set(wasmbin.SecTable, p)
		return m.Encode()
	}
	big := wasmbin.AppendU32([]byte{1, wasmbin.FuncRef, 0x00}, MaxTableElements+1)
	if _, err := Instrument(withTables(big), DefaultConfig()); !errors.Is(err, ErrUnsupported) {
		t.Errorf("table of %d elements: %v, want ErrUnsupported", MaxTableElements+1, err)
	}
	many := []byte{MaxTables + 1}
	for range MaxTables + 1 {
		many = append(many, wasmbin.FuncRef, 0x00, 0x01)
	}
	if _, err := Instrument(withTables(many), DefaultConfig()); !errors.Is(err, ErrUnsupported) {
		t.Errorf("%d tables: %v, want ErrUnsupported", MaxTables+1, err)
	}
	out := mustInstrument(t, withTables([]byte{1, wasmbin.FuncRef, 0x01, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f}), DefaultConfig())
	m, err := wasmbin.Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	want := wasmbin.AppendU32([]byte{1, wasmbin.FuncRef, 0x01, 0x01}, MaxTableElements)
	if got := m.Sections[m.Find(wasmbin.SecTable)].Payload; string(got) != string(want) {
		t.Errorf("table section %x, want %x", got, want)
	}
}
