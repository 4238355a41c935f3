// Package examples_test checks the committed sample programs: that each
// .wasm is exactly what `make examples` builds from the sources, and that
// each runs as a wasip1 reactor under wazero with the ONVM ABI and gives
// the same outputs as its native tests.
package examples_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/onvm-network/onvm/examples/internal/golden"
)

// examples are the sample programs; each lives in ./<name> and is built to
// ./<name>/<name>.wasm.
var examples = []string{"echo", "kvstore", "analytics", "job-test"}

// goBuildWasm builds package pkg (relative to the module root) as the
// Makefile's examples target does.
func goBuildWasm(t *testing.T, pkg, out string) {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build wasm with")
	}
	cmd := exec.Command(gobin, "build", "-trimpath", "-buildvcs=false", "-buildmode=c-shared",
		"-ldflags=-s -w -buildid=", "-o", out, pkg)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, b)
	}
}

// TestCommittedWasmIsReproducible rebuilds every sample and requires the
// bytes of the committed .wasm. A failure means the sources changed
// without `make examples`, or the toolchain differs from the one that built
// the committed files (the Go version is part of the binary).
func TestCommittedWasmIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: rebuilding the samples takes ~20 s with a cold build cache")
	}
	dir := t.TempDir()
	for _, e := range examples {
		t.Run(e, func(t *testing.T) {
			committed, err := os.ReadFile(filepath.Join(e, e+".wasm"))
			if err != nil {
				t.Fatalf("%v (run `make examples`)", err)
			}
			out := filepath.Join(dir, e+".wasm")
			goBuildWasm(t, "./examples/"+e, out)
			built, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(built, committed) {
				t.Errorf("examples/%s/%s.wasm (%d bytes) differs from a fresh build (%d bytes) with %s: run `make examples` and commit",
					e, e, len(committed), len(built), runtime.Version())
			}
			t.Logf("%s.wasm: %d bytes", e, len(built))
		})
	}
}

// TestSampleFilesInTranscripts keeps the sample input files (for the CLI)
// and the transcripts (for the tests) in step: each sample is the input of
// some call of its example's transcript.
func TestSampleFilesInTranscripts(t *testing.T) {
	for _, e := range examples {
		calls, err := golden.Load(filepath.Join(e, "testdata", "calls.txtar"))
		if err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(e, "testdata", "*"))
		n := 0
		for _, f := range files {
			if strings.HasSuffix(f, ".txtar") {
				continue
			}
			n++
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, c := range calls {
				found = found || bytes.Equal(c.In, bytes.TrimSuffix(b, []byte("\n")))
			}
			if !found {
				t.Errorf("%s is not an input of %s's transcript", f, e)
			}
		}
		if n == 0 {
			t.Errorf("%s has no sample input files", e)
		}
	}
}
