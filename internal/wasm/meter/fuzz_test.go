package meter

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tetratelabs/wazero"
)

// FuzzInstrument: Instrument never panics, is deterministic, and whenever it succeeds on an
// input wazero accepts, wazero accepts its output too.
//
// wazero is only shown inputs Instrument accepted: its decoder allocates whatever a count
// field says (a 444-byte module declaring a billion params costs it 1 GB), and Instrument's
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
		out, err := Instrument(wasm, DefaultConfig())
		if err != nil {
			if !errors.Is(err, ErrInvalidModule) && !errors.Is(err, ErrUnsupported) &&
				!errors.Is(err, ErrAlreadyInstrumented) {
				t.Fatalf("error outside the documented kinds: %v", err)
			}
			return
		}
		if compiles(wasm) != nil {
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
