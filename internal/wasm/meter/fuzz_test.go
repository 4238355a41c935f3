package meter

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/onvm-network/onvm/internal/wasm/meter/wasmbin"
	"github.com/tetratelabs/wazero"
)

// FuzzInstrument: Instrument and Validate never panic, Instrument is deterministic, Validate
// accepts its output, whenever Instrument succeeds on an input wazero accepts, wazero accepts
// its output too, and whenever wazero refuses an input (without the name sections Instrument
// drops), it refuses the output: instrumenting never makes an invalid module valid.
//
// wazero is only shown inputs Instrument accepted: its decoder allocates whatever a count
// field says (a 154-byte module declaring a billion params costs it 8 GB), and Instrument's
// success means every count in the module was checked against the bytes present.
func FuzzInstrument(f *testing.F) {
	for _, pattern := range []string{"testdata/*.wasm", "testdata/unsupported/*.wasm"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if filepath.Base(file) == "phi.wasm" {
				continue // takes the interpreter minutes to compile
			}
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	for _, seed := range invalidSeeds() {
		f.Add(seed)
	}
	ctx := context.Background()
	// A fresh runtime per module: a runtime interns every function type it ever sees, so one
	// shared across millions of random modules grows without bound.
	compiles := func(b []byte) error {
		r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
		defer r.Close(ctx)
		_, err := r.CompileModule(ctx, b)
		return err
	}
	f.Fuzz(func(t *testing.T, wasm []byte) {
		verr := Validate(wasm)
		if verr != nil && !errors.Is(verr, ErrInvalidModule) && !errors.Is(verr, ErrUnsupported) {
			t.Fatalf("Validate: error outside the documented kinds: %v", verr)
		}
		out, err := Instrument(wasm, DefaultConfig())
		if err != nil {
			if !errors.Is(err, ErrInvalidModule) && !errors.Is(err, ErrUnsupported) &&
				!errors.Is(err, ErrAlreadyInstrumented) {
				t.Fatalf("error outside the documented kinds: %v", err)
			}
			return
		}
		if err := Validate(DropBadNames(wasm)); err != nil {
			t.Fatalf("Instrument accepts what Validate refuses: %v", err)
		}
		if err := Validate(out); err != nil {
			t.Fatalf("Validate refuses Instrument's output: %v", err)
		}
		if compiles(DropBadNames(wasm)) != nil {
			if compiles(out) == nil {
				t.Fatal("wazero refuses the module and accepts its instrumented output")
			}
			return
		}
		if err := compiles(out); err != nil {
			t.Fatalf("instrumented module does not compile: %v", err)
		}
		again, err := Instrument(wasm, DefaultConfig())
		if err != nil || string(again) != string(out) {
			t.Fatal("Instrument is not deterministic")
		}
	})
}

// FuzzBody wraps arbitrary bytes as the body of a function in a fixed module that has a
// memory, a table, globals, passive segments and a helper function, so that far more inputs
// are valid wasm than with FuzzInstrument: whenever wazero accepts the module, Instrument must
// accept it (or refuse an unsupported opcode) and its output must compile and run within its
// fuel on the interpreter without the engine failing in any other way; and whenever wazero
// refuses the module, it refuses Instrument's output too.
func FuzzBody(f *testing.F) {
	for _, seed := range [][]byte{
		{0x20, 0x00}, // local.get 0
		{0x03, 0x40, 0x0c, 0x00, 0x0b, 0x41, 0x00},                               // loop br 0 end; i32.const 0
		{0x02, 0x40, 0x20, 0x00, 0x0d, 0x00, 0x0b, 0x20, 0x01},                   // block; br_if 0; end
		{0x41, 0x00, 0x41, 0x00, 0x41, 0x04, 0xfc, 0x08, 0x00, 0x00, 0x41, 0x00}, // memory.init
		{0x20, 0x00, 0x20, 0x00, 0x0e, 0x01, 0x00, 0x00},                         // br_table to the function
		{0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f, 0x9f, 0x1a, 0x41, 0x01},             // f64.sqrt drop
		{0x10, 0x01, 0x41, 0x00, 0x11, 0x01, 0x00, 0x41, 0x02},                   // call, call_indirect
		{0x10, 0x01, 0x20, 0x06},                                                 // local.get past the locals
		{0x23, 0x02, 0x1a, 0x41, 0x00},                                           // global.get of onvm_fuel
		{0x41, 0x00, 0x41, 0x00, 0x11, 0x03, 0x00, 0x41, 0x00},                   // call_indirect of the host type
		{0x10, 0x01, 0x41, 0x00, 0x41, 0x00},                                     // a value left over
	} {
		f.Add(seed)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, code []byte) {
		wasm := wrapBody(code)
		r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
		defer r.Close(ctx)
		if _, err := r.CompileModule(ctx, wasm); err != nil {
			if out, err := Instrument(wasm, DefaultConfig()); err == nil {
				if _, err := r.CompileModule(ctx, out); err == nil {
					t.Fatal("wazero refuses the module and accepts its instrumented output")
				}
			}
			return
		}
		out, err := Instrument(wasm, DefaultConfig())
		if err != nil {
			if errors.Is(err, ErrUnsupported) {
				return
			}
			t.Fatalf("wazero accepts the module, Instrument: %v", err)
		}
		if _, err := r.CompileModule(ctx, out); err != nil {
			t.Fatalf("instrumented module does not compile: %v", err)
		}
		// Run it: any outcome but an engine failure is fine (the budget bounds loops).
		in := newInstance(t, wazero.NewRuntimeConfigInterpreter(), out)
		_, _, _ = in.call(t, "f", 10000, 1, 2)
	})
}

// wrapBody returns a module whose function 0, exported as "f", is (param i32 i32) (result
// i32) with locals i32 i64 f32 f64 and the given code followed by end.
func wrapBody(code []byte) []byte {
	m := &wasmbin.Module{}
	m.Set(wasmbin.SecType, wasmbin.EncodeTypes([]wasmbin.FuncType{
		{Params: []byte{wasmbin.I32, wasmbin.I32}, Results: []byte{wasmbin.I32}},
		{},
		{Params: []byte{wasmbin.I32}, Results: []byte{wasmbin.I32, wasmbin.I32}},
	}))
	m.Set(wasmbin.SecFunction, []byte{2, 0, 1})
	m.Set(wasmbin.SecTable, []byte{1, wasmbin.FuncRef, 0x00, 0x02})
	m.Set(wasmbin.SecMemory, []byte{1, 0x00, 0x01})
	m.Set(wasmbin.SecGlobal, wasmbin.EncodeGlobals([]wasmbin.Global{
		{Type: wasmbin.I32, Mutable: true, Init: []byte{0x41, 0x00, 0x0b}},
		{Type: wasmbin.F64, Mutable: true, Init: []byte{0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b}},
	}))
	m.Set(wasmbin.SecExport, wasmbin.EncodeExports([]wasmbin.Export{{Name: "f", Kind: wasmbin.KindFunc, Index: 0}}))
	m.Set(wasmbin.SecElement, []byte{1, 0x01, 0x00, 1, 0x01}) // passive: function 1
	m.Set(wasmbin.SecDataCount, []byte{1})
	body := append([]byte{4, 1, wasmbin.I32, 1, wasmbin.I64, 1, wasmbin.F32, 1, wasmbin.F64}, code...)
	body = append(body, 0x0b)
	m.Set(wasmbin.SecCode, wasmbin.EncodeCode([][]byte{body, {0x00, 0x0b}}))
	m.Set(wasmbin.SecData, []byte{1, 0x01, 4, 'a', 'b', 'c', 'd'})
	return m.Encode()
}

// invalidSeeds are the modules of TestInstrumentKeepsInvalid.
func invalidSeeds() [][]byte {
	return [][]byte{
		testModule(tI32, []byte{0x10, 0, 0x41, 1, 0x41, 2}),
		testModule(tI32, []byte{0x10, 0, 0x20, 0}),
		testModule(tI64, []byte{0x23, 1}),
		testModule(tVoid, []byte{0x41, 0, 0x41, 0, 0x11, nTypes, 0}),
		testModule(tVoid, nil, wasmbin.Export{Name: "x", Kind: wasmbin.KindGlobal, Index: 1}),
	}
}
