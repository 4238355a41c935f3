package wasm

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// exampleWasm returns the committed .wasm of a sample program, or skips.
func exampleWasm(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", name, name+".wasm"))
	if err != nil {
		t.Skipf("example %s not built: %v", name, err)
	}
	return b
}

// TestExamples replays each sample program's transcript (written by the
// examples' own tests against an in-memory host) through Prepare and Run,
// carrying state writes from one call to the next.
func TestExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles four 2 MB Go modules")
	}
	r := sharedRuntime(t)
	for _, name := range []string{"echo", "kvstore", "analytics", "job-test"} {
		t.Run(name, func(t *testing.T) {
			code, err := Prepare(exampleWasm(t, name))
			if err != nil {
				t.Fatal(err)
			}
			a, err := txtar.ParseFile(filepath.Join("..", "..", "examples", name, "testdata", "calls.txtar"))
			if err != nil {
				t.Skip(err)
			}
			state := &fakeState{kv: map[string][]byte{}}
			for i := 0; i+1 < len(a.Files); i += 2 {
				in, want := bytes.TrimSuffix(a.Files[i].Data, []byte("\n")), bytes.TrimSuffix(a.Files[i+1].Data, []byte("\n"))
				res, err := r.Run(t.Context(), Call{Code: code, Entrypoint: "onvm_main", Input: in, State: state, Timestamp: 1_700_000_000_000})
				if err != nil {
					t.Fatalf("%s: %v", strings.TrimSuffix(a.Files[i].Name, ".in"), err)
				}
				if !bytes.Equal(res.Output, want) {
					t.Errorf("%s:\n got %s\nwant %s", a.Files[i].Name, res.Output, want)
				}
				for _, w := range res.Writes {
					if w.Delete {
						delete(state.kv, string(w.Key))
					} else {
						state.kv[string(w.Key)] = w.Value
					}
				}
			}
		})
	}
}
