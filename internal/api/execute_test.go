package api

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/onvm-network/onvm/client/wire"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/state"
)

// execute posts one execution and returns the status and body.
func (n *testNode) execute(req map[string]any) (int, []byte) {
	n.t.Helper()
	resp, body := n.do("POST", "/execute", jsonHeader, jsonBody(n.t, req))
	return resp.StatusCode, body
}

// mustExecute executes input and returns the result.
func (n *testNode) mustExecute(p string, input []byte) wire.ExecuteResult {
	n.t.Helper()
	code, body := n.execute(map[string]any{"program_id": p, "input_base64": base64.StdEncoding.EncodeToString(input)})
	if code != http.StatusOK {
		n.t.Fatalf("execute: %d %s", code, body)
	}
	var res wire.ExecuteResult
	if err := json.Unmarshal(body, &res); err != nil {
		n.t.Fatal(err)
	}
	return res
}

type transcriptCall struct {
	name    string
	in, out []byte
}

func loadTranscript(t testing.TB, name string) []transcriptCall {
	t.Helper()
	a, err := txtar.ParseFile(filepath.Join("..", "..", "examples", name, "testdata", "calls.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	var calls []transcriptCall
	for i := 0; i+1 < len(a.Files); i += 2 {
		calls = append(calls, transcriptCall{a.Files[i].Name,
			bytes.TrimSuffix(a.Files[i].Data, []byte("\n")), bytes.TrimSuffix(a.Files[i+1].Data, []byte("\n"))})
	}
	return calls
}

func TestEchoOverHTTP(t *testing.T) {
	n := newProgramNode(t, 1)
	p := n.deployJSON(sampleWasm(t, "echo"), "onvm_main", "s")
	res := n.mustExecute(p, []byte("hello world"))
	out, _ := base64.StdEncoding.DecodeString(res.ReturnBase64)
	if string(out) != "HELLO WORLD" || res.Fuel == 0 || res.Height != 1 || res.Replayed {
		t.Fatalf("result %+v (%q)", res, out)
	}
	// The sample input file of the original.
	in, err := os.ReadFile(filepath.Join("..", "..", "examples", "echo", "testdata", "hello.txt"))
	if err != nil {
		t.Fatal(err)
	}
	res = n.mustExecute(p, in)
	out, _ = base64.StdEncoding.DecodeString(res.ReturnBase64)
	if !bytes.Equal(out, bytes.ToUpper(in)) || res.Height != 2 {
		t.Fatalf("result %+v", res)
	}
}

// TestTranscriptsOverHTTP replays every sample's transcript through
// POST /execute on two fresh nodes: outputs are exact, the two nodes reach
// the same roots, and every proof of the state verifies.
func TestTranscriptsOverHTTP(t *testing.T) {
	a, b := newProgramNode(t, 1), newProgramNode(t, 2)
	for _, name := range []string{"echo", "kvstore", "analytics", "job-test"} {
		t.Run(name, func(t *testing.T) {
			code := sampleWasm(t, name)
			pa, pb := a.deployJSON(code, "onvm_main", "t"), b.deployJSON(code, "onvm_main", "t")
			if pa != pb {
				t.Fatal("same module and salt, different ids")
			}
			for _, c := range loadTranscript(t, name) {
				ra, rb := a.mustExecute(pa, c.in), b.mustExecute(pb, c.in)
				out, _ := base64.StdEncoding.DecodeString(ra.ReturnBase64)
				if !bytes.Equal(out, c.out) {
					t.Fatalf("%s: got\n%s\nwant\n%s", c.name, out, c.out)
				}
				if ra.StateRoot != rb.StateRoot || ra.Fuel != rb.Fuel || ra.ReturnBase64 != rb.ReturnBase64 {
					t.Fatalf("%s: nodes diverge: %+v vs %+v", c.name, ra, rb)
				}
				if name == "kvstore" {
					for _, k := range []string{"alpha", "a", "b", "__keys", "absent"} {
						checkProof(t, a, pa, "", []byte(k), mustHash(t, ra.StateRoot))
					}
				}
			}
		})
	}
}

// checkProof fetches a proof of key (under ?extra) and verifies it with
// state.Verify against want.
func checkProof(t *testing.T, n *testNode, p, extra string, key []byte, want id.Hash) wire.StateRoot {
	t.Helper()
	var sr wire.StateRoot
	n.getJSON("/programs/"+p+"/state-root?key="+hex.EncodeToString(key)+extra, &sr)
	if sr.Root != want.String() || sr.Present == nil || len(sr.Proof) != state.Depth {
		t.Fatalf("state-root %q: %+v", key, sr)
	}
	var value []byte
	if sr.ValueHex != nil {
		value, _ = hex.DecodeString(*sr.ValueHex)
	}
	if *sr.Present != (sr.ValueHex != nil) {
		t.Fatalf("present %v with value %v", *sr.Present, sr.ValueHex)
	}
	proof := make([]id.Hash, len(sr.Proof))
	for i, h := range sr.Proof {
		proof[i] = mustHash(t, h)
	}
	if err := state.Verify(mustHash(t, sr.Root), key, value, *sr.Present, proof); err != nil {
		t.Fatalf("proof of %q: %v", key, err)
	}
	return sr
}

// mustHash parses a hash the API sent.
func mustHash(t testing.TB, s string) id.Hash {
	t.Helper()
	h, err := id.ParseHash(s)
	if err != nil {
		t.Fatalf("hash %q: %v", s, err)
	}
	return h
}

func TestExecuteErrors(t *testing.T) {
	n := newProgramNode(t, 1)
	kv := n.deployJSON(sampleWasm(t, "kvstore"), "onvm_main", "s")
	limits, err := os.ReadFile(filepath.Join("..", "wasm", "testdata", "limits.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	panicky := n.deployJSON(limits, "panic", "p")
	spin := n.deployJSON(limits, "spin", "q")
	put := base64.StdEncoding.EncodeToString([]byte(`{"op":"put","key":"k","data_base64":"djE="}`))
	tests := []struct {
		name   string
		req    map[string]any
		status int
		code   string
		msg    string
		fuel   bool
	}{
		{"unknown program", map[string]any{"program_id": "prog" + strings.Repeat("ab", 32), "input_base64": ""}, 404, "not_found", "not found", false},
		{"blob id as program", map[string]any{"program_id": "blob" + strings.Repeat("ab", 32), "input_base64": ""}, 400, "invalid_id", "expected program id", false},
		{"bad base64", map[string]any{"program_id": kv, "input_base64": "%%%"}, 400, "invalid_base64", "input_base64", false},
		{"oversize input", map[string]any{"program_id": kv, "input_base64": base64.StdEncoding.EncodeToString(make([]byte, 1<<20+1))}, 413, "input_too_large", "1048577", false},
		{"trap with the guest's message", map[string]any{"program_id": panicky, "input_base64": ""}, 422, "trap", "", true},
		{"out of fuel", map[string]any{"program_id": kv, "input_base64": put, "fuel_limit": 20000}, 422, "out_of_fuel", "", true},
		{"timeout", map[string]any{"program_id": spin, "input_base64": "", "timeout_ms": 50, "fuel_limit": 500_000_000}, 504, "timeout", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := n.execute(tt.req)
			var e wire.ErrorBody
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatal(err)
			}
			if status != tt.status || e.Error.Code != tt.code || !strings.Contains(e.Error.Message, tt.msg) {
				t.Fatalf("got %d %s, want %d %s %q", status, body, tt.status, tt.code, tt.msg)
			}
			if tt.fuel != (e.Error.FuelUsed != nil) || (tt.code != "timeout" && tt.fuel && *e.Error.FuelUsed == 0) {
				t.Fatalf("fuel_used in %s", body)
			}
		})
	}
	// The trap's log line carries the guest's message.
	_, body := n.execute(map[string]any{"program_id": panicky, "input_base64": ""})
	if !strings.Contains(string(body), "boom: invariant violated") {
		t.Fatalf("guest message missing: %s", body)
	}
	// Nothing was committed by any failure.
	var sr wire.StateRoot
	n.getJSON("/programs/"+kv+"/state-root", &sr)
	if *sr.Height != 0 || sr.Root != state.EmptyRoot.String() || sr.Proof != nil || sr.ValueHex != nil {
		t.Fatalf("state moved: %+v", sr)
	}
	_, b := n.do("GET", "/programs/"+kv+"/state-root", nil, nil)
	golden(t, "state_root_empty.json", bytes.ReplaceAll(b, []byte(kv), []byte("prog<id>")))
	_, b = n.do("POST", "/execute", jsonHeader, strings.NewReader(`{"program_id":"`+kv+`","input_base64":"%%%"}`))
	golden(t, "execute_bad_base64.json", b)
}

func TestExecuteRequestID(t *testing.T) {
	n := newProgramNode(t, 1)
	p := n.deployJSON(sampleWasm(t, "kvstore"), "onvm_main", "s")
	req := map[string]any{"program_id": p, "request_id": "job-7",
		"input_base64": base64.StdEncoding.EncodeToString([]byte(`{"op":"put","key":"k","data_base64":"djE="}`))}
	var first, again wire.ExecuteResult
	for i, res := range []*wire.ExecuteResult{&first, &again} {
		status, body := n.execute(req)
		if status != 200 {
			t.Fatalf("%d: %d %s", i, status, body)
		}
		_ = json.Unmarshal(body, res)
	}
	if !again.Replayed || again.ReceiptID != first.ReceiptID || again.Height != 1 || again.ReturnBase64 != first.ReturnBase64 {
		t.Fatalf("replay %+v of %+v", again, first)
	}
	req["input_base64"] = ""
	if status, body := n.execute(req); status != http.StatusConflict || !strings.Contains(string(body), "request_conflict") {
		t.Fatalf("reuse with another input: %d %s", status, body)
	}
}
