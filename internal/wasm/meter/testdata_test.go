package meter

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestTestdataUpToDate rebuilds the committed .wasm files from their .wat sources (see
// testdata/README.md) when wat2wasm is installed.
func TestTestdataUpToDate(t *testing.T) {
	if _, err := exec.LookPath("wat2wasm"); err != nil {
		t.Skip("wat2wasm not installed")
	}
	builds := []struct {
		wat, wasm string
		flags     []string
	}{
		{"fuel.wat", "fuel.wasm", nil},
		{"fuel.wat", "named.wasm", []string{"--debug-names"}},
		{"compute.wat", "compute.wasm", nil},
		{"start.wat", "start.wasm", []string{"--debug-names"}},
		{"depth.wat", "depth.wasm", nil},
		{"phi.wat", "phi.wasm", nil},
		{"unsupported/simd.wat", "unsupported/simd.wasm", nil},
		{"unsupported/atomics.wat", "unsupported/atomics.wasm", []string{"--enable-threads"}},
		{"unsupported/tailcall.wat", "unsupported/tailcall.wasm", []string{"--enable-tail-call"}},
		{"unsupported/exceptions.wat", "unsupported/exceptions.wasm", []string{"--enable-exceptions"}},
		{"unsupported/multimemory.wat", "unsupported/multimemory.wasm", []string{"--enable-multi-memory"}},
		{"unsupported/memory64.wat", "unsupported/memory64.wasm", []string{"--enable-memory64"}},
		{"unsupported/shared.wat", "unsupported/shared.wasm", []string{"--enable-threads"}},
	}
	dir := t.TempDir()
	for _, b := range builds {
		out := filepath.Join(dir, filepath.Base(b.wasm))
		args := append(append([]string{}, b.flags...), filepath.Join("testdata", b.wat), "-o", out)
		if msg, err := exec.Command("wat2wasm", args...).CombinedOutput(); err != nil {
			t.Fatalf("wat2wasm %s: %v: %s", b.wat, err, msg)
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, readTestdata(t, b.wasm)) {
			t.Errorf("testdata/%s is stale: rebuild it from %s", b.wasm, b.wat)
		}
	}
}
