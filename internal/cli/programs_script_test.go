package cli

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestProgramScripts runs testdata/programs/*.txtar: deploy, execute,
// receipts and proofs through the CLI against a real node. $EXAMPLES is the
// repository's examples directory (the sample .wasm files and inputs).
func TestProgramScripts(t *testing.T) {
	examples, err := filepath.Abs(filepath.Join("..", "..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "programs"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", examples)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitnode": cmdWaitNode,
			"jsonget":  cmdJSONGet,
			"jsonflip": cmdJSONFlip,
		},
		RequireExplicitExec: true,
	})
}

// jsonget FILE PATH VAR: set $VAR to the value at PATH (dot-separated keys
// and array indexes, e.g. receipts.0.receipt_id) of the JSON in FILE (the
// last line when FILE holds several). Strings are set unquoted.
func cmdJSONGet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: jsonget FILE PATH VAR")
	}
	text := strings.TrimSpace(ts.ReadFile(args[0]))
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		text = text[i+1:]
	}
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		ts.Fatalf("jsonget %s: %v", args[0], err)
	}
	for _, part := range strings.Split(args[1], ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				ts.Fatalf("jsonget %s: bad index %q", args[1], part)
			}
			v = x[i]
		default:
			ts.Fatalf("jsonget %s: %q not found", args[1], part)
		}
	}
	switch x := v.(type) {
	case string:
		ts.Setenv(args[2], x)
	default:
		b, _ := json.Marshal(x)
		ts.Setenv(args[2], string(b))
	}
}

// jsonflip FILE FIELD OUT: write FILE's JSON object to OUT with one bit of
// the top-level FIELD flipped: the last hex digit of a string, the lowest
// bit of a number.
func cmdJSONFlip(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: jsonflip FILE FIELD OUT")
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(ts.ReadFile(args[0])), &obj); err != nil {
		ts.Fatalf("jsonflip %s: %v", args[0], err)
	}
	obj[args[1]] = flipped(args[1], obj[args[1]])
	if obj[args[1]] == nil {
		ts.Fatalf("jsonflip: no field %s", args[1])
	}
	b, _ := json.Marshal(obj)
	ts.Check(os.WriteFile(ts.MkAbs(args[2]), b, 0o644))
}

// flipped returns field's value v with one bit changed: a bit of the
// middle byte of base64 fields (after decoding), the last hex digit of other
// strings, the lowest bit of a number; nil for anything else.
func flipped(field string, v any) any {
	switch x := v.(type) {
	case string:
		if x == "" {
			return nil
		}
		if strings.HasSuffix(field, "_base64") {
			b, err := base64.StdEncoding.DecodeString(x)
			if err != nil || len(b) == 0 {
				return nil
			}
			b[len(b)/2] ^= 1
			return base64.StdEncoding.EncodeToString(b)
		}
		b := []byte(x)
		c := b[len(b)-1]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'f' {
			b[len(b)-1] = "0123456789abcdef"[hexVal(c)^1]
		} else {
			b[len(b)-1] ^= 1
		}
		return string(b)
	case float64:
		return float64(int64(x) ^ 1)
	}
	return nil
}

func hexVal(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
}
