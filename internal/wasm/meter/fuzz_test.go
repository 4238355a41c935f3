package meter

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tetratelabs/wazero"
)

// FuzzInstrument: Instrument never panics; whenever wazero accepts the input, Instrument
// either refuses it as unsupported or returns a module wazero accepts too.
func FuzzInstrument(f *testing.F) {
	for _, pattern := range []string{"testdata/*.wasm", "testdata/unsupported/*.wasm"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	f.Cleanup(func() { _ = r.Close(ctx) })
	compiles := func(b []byte) error {
		cm, err := r.CompileModule(ctx, b)
		if err == nil {
			_ = cm.Close(ctx)
		}
		return err
	}
	f.Fuzz(func(t *testing.T, wasm []byte) {
		out, err := Instrument(wasm, DefaultConfig())
		if err != nil {
			if errors.Is(err, ErrInvalidModule) && compiles(wasm) == nil {
				t.Fatalf("wazero accepts the module but Instrument calls it invalid: %v", err)
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
