package wasm

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/onvm-network/onvm/internal/wasm/meter"
	"github.com/onvm-network/onvm/internal/wasm/meter/wasmbin"
)

// slowToCompile is a module whose entrypoint run returns its input at once, and which also
// defines 150 functions nested meter.MaxNesting deep, never called: within the module
// limits, and some hundreds of milliseconds to compile.
func slowToCompile(t *testing.T) []byte {
	t.Helper()
	m := &wasmbin.Module{}
	m.Set(wasmbin.SecType, wasmbin.EncodeTypes([]wasmbin.FuncType{
		{Params: []byte{wasmbin.I32, wasmbin.I32}, Results: []byte{wasmbin.I32, wasmbin.I32}}, {},
	}))
	const n = 150
	m.Set(wasmbin.SecFunction, append(wasmbin.AppendU32(nil, n+1), append([]byte{0}, bytes.Repeat([]byte{1}, n)...)...))
	m.Set(wasmbin.SecMemory, []byte{1, 0x00, 0x01})
	m.Set(wasmbin.SecExport, wasmbin.EncodeExports([]wasmbin.Export{
		{Name: "run", Kind: wasmbin.KindFunc, Index: 0}, {Name: MemoryExport, Kind: wasmbin.KindMemory, Index: 0},
	}))
	nest := append([]byte{0}, bytes.Repeat([]byte{0x02, 0x40}, meter.MaxNesting)...)
	nest = append(nest, bytes.Repeat([]byte{0x0b}, meter.MaxNesting+1)...)
	bodies := [][]byte{{0, 0x20, 0, 0x20, 1, 0x0b}}
	for range n {
		bodies = append(bodies, nest)
	}
	m.Set(wasmbin.SecCode, wasmbin.EncodeCode(bodies))
	code, err := Prepare(m.Encode())
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// TestTimeoutCountsCompilation: a first call's compilation counts against its timeout, so a
// call whose module takes longer to compile than its timeout times out (it used to run, the
// compile uncounted), and the next call, compiled already, runs within the same timeout.
func TestTimeoutCountsCompilation(t *testing.T) {
	code := slowToCompile(t)
	r := newTestRuntime(t, false)
	call := Call{Code: code, Entrypoint: "run", Input: []byte("x"), State: &fakeState{kv: map[string][]byte{}}, Timeout: time.Millisecond}
	start := time.Now()
	_, err := r.Run(t.Context(), call)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("first call (compiles): %v after %v, want a timeout", err, time.Since(start))
	}
	call.Timeout = time.Second
	res, err := r.Run(t.Context(), call)
	if err != nil || string(res.Output) != "x" {
		t.Fatalf("second call (compiled): %v, %v", res, err)
	}
}
