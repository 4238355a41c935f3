package wasm

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestFixturesRebuild rebuilds the committed .wasm fixtures from their
// sources with testdata/build.sh and checks they are byte-identical. It
// skips when its version differs from testdata/TOOLS, and when a tool is
// missing outside CI (under CI, which installs them, that fails).
func TestFixturesRebuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the fixtures")
	}
	tools, err := os.ReadFile(filepath.Join("testdata", "TOOLS"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string][]string{
		"wat2wasm": {"wat2wasm", "--version"},
		"clang":    {"clang", "--version"},
	}
	for name, cmd := range have {
		if _, err := exec.LookPath(cmd[0]); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s not installed: .ci/run installs it (apt-get install wabt clang lld)", name)
			}
			t.Skipf("%s not installed (apt-get install wabt clang lld): fixtures not rebuilt", name)
		}
		out, _ := exec.Command(cmd[0], cmd[1:]...).Output()
		version, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		if name == "wat2wasm" {
			version = "wat2wasm " + version
		}
		if !strings.Contains(string(tools), version) {
			t.Skipf("%s is %q, the fixtures were built with:\n%s", name, version, tools)
		}
	}
	if !strings.Contains(string(tools), runtime.Version()) {
		t.Skipf("go is %s, the fixtures were built with:\n%s", runtime.Version(), tools)
	}
	out := t.TempDir()
	cmd := exec.Command("sh", filepath.Join("testdata", "build.sh"), out)
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, b)
	}
	built, err := filepath.Glob(filepath.Join(out, "*.wasm"))
	if err != nil || len(built) == 0 {
		t.Fatalf("nothing built: %v", err)
	}
	invalid, _ := filepath.Glob(filepath.Join(out, "invalid", "*.wasm"))
	for _, f := range append(built, invalid...) {
		rel, _ := filepath.Rel(out, f)
		fresh, _ := os.ReadFile(f)
		committed, err := os.ReadFile(filepath.Join("testdata", rel))
		if err != nil {
			t.Errorf("%s: built but not committed", rel)
			continue
		}
		if !bytes.Equal(fresh, committed) {
			t.Errorf("%s: the committed file differs from a fresh build (run testdata/build.sh)", rel)
		}
	}
}
