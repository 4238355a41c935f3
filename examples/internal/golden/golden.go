// Package golden replays call transcripts against a sample program. A
// transcript (testdata/calls.txtar in each example) is a txtar archive of
// alternating "<name>.in" and "<name>.out" files: the inputs of successive
// calls on one program instance and their exact outputs (one trailing
// newline of each file is not part of the bytes). The native tests replay
// them through guesttest and the build test through the compiled .wasm
// under wazero, so both must produce identical bytes. Test-only.
package golden

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite the .out files of call transcripts with the actual outputs")

// Call is one call of a transcript.
type Call struct {
	Name     string
	In, Want []byte
}

// Load reads the transcript at path.
func Load(path string) ([]Call, error) {
	a, err := txtar.ParseFile(path)
	if err != nil {
		return nil, fmt.Errorf("load transcript %s: %w", path, err)
	}
	if len(a.Files)%2 != 0 {
		return nil, fmt.Errorf("load transcript %s: odd number of files", path)
	}
	var calls []Call
	for i := 0; i < len(a.Files); i += 2 {
		in, out := a.Files[i], a.Files[i+1]
		name, ok := strings.CutSuffix(in.Name, ".in")
		if !ok || out.Name != name+".out" {
			return nil, fmt.Errorf("load transcript %s: files %q, %q are not a NAME.in, NAME.out pair", path, in.Name, out.Name)
		}
		calls = append(calls, Call{Name: name, In: trim(in.Data), Want: trim(out.Data)})
	}
	return calls, nil
}

func trim(b []byte) []byte { return bytes.TrimSuffix(b, []byte("\n")) }

// Replay runs the transcript at path through call, in order, and reports
// every output that differs. With -update it rewrites the expected outputs.
func Replay(t *testing.T, path string, call func(in []byte) ([]byte, error)) {
	t.Helper()
	calls, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := txtar.ParseFile(path)
	for i, c := range calls {
		got, err := call(c.In)
		if err != nil {
			t.Fatalf("%s: call %q: %v", c.Name, c.In, err)
		}
		if *update {
			a.Files[2*i+1].Data = append(bytes.Clone(got), '\n')
			continue
		}
		if !bytes.Equal(got, c.Want) {
			t.Errorf("%s: input %s\n got  %s\n want %s", c.Name, c.In, got, c.Want)
		}
	}
	if *update {
		if err := os.WriteFile(path, txtar.Format(a), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
