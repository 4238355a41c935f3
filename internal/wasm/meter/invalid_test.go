package meter

import (
	"context"
	"errors"
	"testing"

	"github.com/onvm-network/onvm/internal/wasm/meter/wasmbin"
	"github.com/tetratelabs/wazero"
)

// Types of testModule.
const (
	tVoid   = 0 // () -> ()
	tI32    = 1 // () -> (i32)
	tI64    = 2 // () -> (i64)
	tI32I32 = 3 // () -> (i32 i32)
	nTypes  = 4 // Instrument appends (i32) -> () as type 4
)

// testModule returns a module with the types above, one immutable i32 global (so the meter's
// globals are 1, 2 and 3), a table of one funcref, function 0 of type () -> () with an empty
// body, and function 1, exported as "f", of type ft with no locals and code followed by end.
// Its code calls function 0 when it needs the trap wrappers (and so the body block) emitted.
func testModule(ft byte, code []byte, exports ...wasmbin.Export) []byte {
	m := &wasmbin.Module{}
	m.Set(wasmbin.SecType, wasmbin.EncodeTypes([]wasmbin.FuncType{
		{}, {Results: []byte{wasmbin.I32}}, {Results: []byte{wasmbin.I64}},
		{Results: []byte{wasmbin.I32, wasmbin.I32}},
	}))
	m.Set(wasmbin.SecFunction, []byte{2, tVoid, ft})
	m.Set(wasmbin.SecTable, []byte{1, wasmbin.FuncRef, 0x00, 0x01})
	m.Set(wasmbin.SecGlobal, wasmbin.EncodeGlobals([]wasmbin.Global{
		{Type: wasmbin.I32, Init: []byte{0x41, 0x00, 0x0b}},
	}))
	exports = append([]wasmbin.Export{{Name: "f", Kind: wasmbin.KindFunc, Index: 1}}, exports...)
	m.Set(wasmbin.SecExport, wasmbin.EncodeExports(exports))
	m.Set(wasmbin.SecCode, wasmbin.EncodeCode([][]byte{{0x00, 0x0b}, append(append([]byte{0x00}, code...), 0x0b)}))
	return m.Encode()
}

// compileErr compiles wasm with a fresh interpreter runtime.
func compileErr(wasm []byte) error {
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	_, err := r.CompileModule(ctx, wasm)
	return err
}

// TestInstrumentKeepsInvalid: the spec's assert_invalid, for every way the rewrite could make
// an invalid module valid. Instrument appends locals, globals and a type, and ends a wrapped
// body with a return: an index past the module's own, or values left on the stack at the
// function's end, must not become valid code reading the meter's state.
func TestInstrumentKeepsInvalid(t *testing.T) {
	const call0 = 0x10 // call 0 makes the body need its depth-trap wrapper
	tests := []struct {
		name   string
		wasm   []byte
		refuse bool // Instrument itself must refuse (an index); else its output must not compile
	}{
		{"value left, no results", testModule(tVoid, []byte{call0, 0, 0x41, 7}), false},
		{"two values for one result", testModule(tI32, []byte{call0, 0, 0x41, 1, 0x41, 2}), false},
		{"three values for two results", testModule(tI32I32, []byte{call0, 0, 0x41, 1, 0x41, 2, 0x41, 3}), false},
		{"value left after a block", testModule(tVoid, []byte{0x02, 0x40, call0, 0, 0x0b, 0x42, 1}), false},
		{"local.get past the locals", testModule(tI32, []byte{call0, 0, 0x20, 0}), true},
		{"local.set past the locals", testModule(tVoid, []byte{call0, 0, 0x41, 5, 0x21, 0}), true},
		{"local.tee past the locals", testModule(tI32, []byte{call0, 0, 0x41, 5, 0x22, 0}), true},
		{"global.get of onvm_fuel", testModule(tI64, []byte{0x23, 1}), true},
		{"global.set of onvm_fuel", testModule(tVoid, []byte{0x42, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x24, 1}), true},
		{"global.set of onvm_depth", testModule(tVoid, []byte{0x41, 0, 0x24, 2}), true},
		{"global.get of onvm_checkpoint", testModule(tI64, []byte{0x23, 3}), true},
		{"export of onvm_fuel", testModule(tVoid, nil, wasmbin.Export{Name: "x", Kind: wasmbin.KindGlobal, Index: 1}), true},
		{"call_indirect of the host type", testModule(tVoid, []byte{0x41, 0, 0x41, 0, 0x11, nTypes, 0}), true},
		{"block of the host type", testModule(tVoid, []byte{0x41, 0, 0x02, nTypes, 0x1a, 0x0b}), true},
		{"loop of the host type", testModule(tVoid, []byte{0x41, 0, 0x03, nTypes, 0x1a, 0x0b}), true},
		{"if of the host type", testModule(tVoid, []byte{0x41, 0, 0x41, 0, 0x04, nTypes, 0x1a, 0x0b}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if compileErr(tt.wasm) == nil {
				t.Fatal("the test module is valid")
			}
			out, err := Instrument(tt.wasm, DefaultConfig())
			if tt.refuse {
				if !errors.Is(err, ErrInvalidModule) {
					t.Fatalf("Instrument: err %v, want ErrInvalidModule", err)
				}
				if err := Validate(tt.wasm); !errors.Is(err, ErrInvalidModule) {
					t.Fatalf("Validate: err %v, want ErrInvalidModule", err)
				}
				return
			}
			if err != nil {
				return
			}
			if compileErr(out) == nil {
				t.Fatal("the instrumented module is valid")
			}
		})
	}
}

// TestBodyBlock: a wrapped body ends in a block typed with the function's results, which
// branches to the function label target; the results come out unchanged.
func TestBodyBlock(t *testing.T) {
	tests := []struct {
		name string
		ft   byte
		code []byte
		want []uint64
	}{
		{"no results", tVoid, []byte{0x10, 0}, nil},
		{"one result", tI32, []byte{0x10, 0, 0x41, 5}, []uint64{5}},
		{"two results", tI32I32, []byte{0x10, 0, 0x41, 1, 0x41, 2}, []uint64{1, 2}},
		{"br to the function", tI32I32, []byte{0x02, 0x40, 0x10, 0, 0x41, 3, 0x41, 4, 0x0c, 1, 0x0b, 0x00}, []uint64{3, 4}},
		{"br_table to the function", tI32, []byte{0x10, 0, 0x41, 6, 0x41, 0, 0x0e, 0, 0, 0x00}, []uint64{6}},
		{"return", tI32, []byte{0x10, 0, 0x41, 7, 0x0f}, []uint64{7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wasm := testModule(tt.ft, tt.code)
			if err := compileErr(wasm); err != nil {
				t.Fatalf("test module: %v", err)
			}
			out := mustInstrument(t, wasm, DefaultConfig())
			for _, eng := range engines {
				in := newInstance(t, eng.cfg(), out)
				got, _, err := in.call(t, "f", 1000)
				if err != nil || len(got) != len(tt.want) {
					t.Fatalf("%s: f() = %v, %v; want %v", eng.name, got, err, tt.want)
				}
				for i := range got {
					if got[i] != tt.want[i] {
						t.Errorf("%s: f() = %v, want %v", eng.name, got, tt.want)
					}
				}
			}
		})
	}
}

// TestNameSectionDropped: a name section that does not parse exactly is dropped, not
// refused, and not re-encoded: wazero reads the subsections it knows by their contents rather
// than their sizes, so it accepts sections whose sizes disagree with what they hold.
func TestNameSectionDropped(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		wazero  bool // wazero accepts the module
	}{
		// Function names declared empty, holding a zero count that wazero reads anyway.
		{"size 0 holding a count", []byte{0x01, 0x00, 0x00}, true},
		{"function past the functions", []byte{0x01, 0x04, 0x01, 0x09, 0x01, 'a'}, true},
		{"functions out of order", []byte{0x01, 0x07, 0x02, 0x01, 0x01, 'a', 0x00, 0x01, 'b'}, true},
		{"subsections out of order", []byte{0x01, 0x01, 0x00, 0x00, 0x02, 0x01, 'm'}, true},
		{"module name not UTF-8", []byte{0x00, 0x02, 0x01, 0xff}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := wasmbin.Decode(testModule(tVoid, []byte{0x10, 0}))
			if err != nil {
				t.Fatal(err)
			}
			m.Sections = append(m.Sections, wasmbin.Section{ID: wasmbin.SecCustom, Name: "name", Payload: tt.payload})
			wasm := m.Encode()
			if err := compileErr(wasm); (err == nil) != tt.wazero {
				t.Fatalf("wazero: %v, want accepted=%t", err, tt.wazero)
			}
			out, err := Instrument(wasm, DefaultConfig())
			if err != nil {
				t.Fatalf("Instrument: %v", err)
			}
			if err := compileErr(out); err != nil {
				t.Fatalf("instrumented module: %v", err)
			}
			if err := Validate(out); err != nil {
				t.Fatalf("Validate(output): %v", err)
			}
			om, err := wasmbin.Decode(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range om.Sections {
				if s.ID == wasmbin.SecCustom && s.Name == "name" {
					t.Fatalf("name section kept: %x", s.Payload)
				}
			}
			if err := Validate(wasm); !errors.Is(err, ErrInvalidModule) {
				t.Errorf("Validate(input): %v, want ErrInvalidModule", err)
			}
			if err := Validate(DropBadNames(wasm)); err != nil {
				t.Errorf("Validate(DropBadNames(input)): %v", err)
			}
		})
	}
}
