package wasm

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// TestGoldenFuel pins the exact fuel of every fuel case: a change in the
// meter, the host costs or a fixture shows up here (and must come with an
// EnvHash change when it is not a fixture change).
func TestGoldenFuel(t *testing.T) {
	r := sharedRuntime(t)
	var b strings.Builder
	for _, fc := range fuelCases(t) {
		if fc.slow && testing.Short() {
			continue
		}
		o := runCase(t, r, fc, false)
		status := "ok"
		if o.Kind != 0 {
			status = o.Kind.String()
		}
		fmt.Fprintf(&b, "%-14s %-18s fuel=%d\n", fc.name, status, o.Fuel)
	}
	checkGolden(t, "fuel.golden", b.String())
}

// TestGoldenEnv pins the description EnvHash hashes, so that every change
// to it is visible in review.
func TestGoldenEnv(t *testing.T) {
	checkGolden(t, "env.golden", fmt.Sprintf("%s\nhash %s\n", envDescription(), EnvHash()))
}

// checkGolden compares got with testdata/name (lines present in the file
// but absent from got are ignored when -short skipped them).
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	wantLines := map[string]bool{}
	for _, l := range strings.Split(string(want), "\n") {
		wantLines[l] = true
	}
	for _, l := range strings.Split(got, "\n") {
		if !wantLines[l] {
			t.Errorf("%s: line %q is not in the golden file (run with -update if the change is intended)", name, l)
		}
	}
	if !testing.Short() && string(want) != got {
		t.Errorf("%s differs (run with -update if the change is intended):\n got:\n%s\nwant:\n%s", name, got, want)
	}
}
