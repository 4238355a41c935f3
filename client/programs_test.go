package client

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

var progID = "prog" + strings.Repeat("ab", 32)

// recorder is a fake node that records the last request and answers with
// a fixed status and body.
type recorder struct {
	method, path, query, ctype string
	body                       []byte
}

func fake(t *testing.T, status int, reply string) (*Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.method, rec.path, rec.query, rec.ctype = r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type")
		rec.body, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, reply)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

func TestDeploy(t *testing.T) {
	c, rec := fake(t, http.StatusCreated, `{"id":"`+progID+`","publisher":"aa","size":3,"entrypoint":"main","blob_refs":[],"manifest":{"salt_base64":"cw=="}}`)
	p, err := c.Deploy(t.Context(), DeployRequest{Wasm: []byte("abc"), Entrypoint: "main", Salt: []byte("s")})
	if err != nil || !p.Created || p.ID != progID || p.Manifest.SaltBase64 != "cw==" {
		t.Fatalf("%+v %v", p, err)
	}
	var sent map[string]any
	if err := json.Unmarshal(rec.body, &sent); err != nil {
		t.Fatal(err)
	}
	if rec.method != "POST" || rec.path != "/programs" || sent["wasm_base64"] != "YWJj" || sent["salt_base64"] != "cw==" || sent["entrypoint"] != "main" {
		t.Fatalf("request %+v %s", rec, rec.body)
	}
	// No salt: the field is left out so the node picks one.
	c, rec = fake(t, http.StatusOK, `{"id":"`+progID+`"}`)
	p, err = c.Deploy(t.Context(), DeployRequest{CodeBlob: "blob00", Entrypoint: "main"})
	if err != nil || p.Created || strings.Contains(string(rec.body), "salt") || !strings.Contains(string(rec.body), `"code_blob":"blob00"`) {
		t.Fatalf("%+v %v %s", p, err, rec.body)
	}
	// Streamed: the raw module with the parameters in the query.
	c, rec = fake(t, http.StatusCreated, `{"id":"`+progID+`"}`)
	if _, err := c.DeployStream(t.Context(), strings.NewReader("abc"), 3, DeployRequest{Entrypoint: "main", Salt: []byte("s"), BlobRefs: []string{"blob1", "blob2"}}); err != nil {
		t.Fatal(err)
	}
	if string(rec.body) != "abc" || rec.ctype != "application/wasm" || rec.query != "blob_refs=blob1%2Cblob2&entrypoint=main&salt=cw%3D%3D" {
		t.Fatalf("stream request %+v", rec)
	}
}

func TestExecute(t *testing.T) {
	c, rec := fake(t, http.StatusOK, `{"return_base64":"SEk=","fuel":7,"receipt_id":"00","height":3,"state_root":"11","request_id":"22","replayed":true,"logs":[{"source":"guest","level":2,"message":"hi"}]}`)
	res, err := c.Execute(t.Context(), ExecuteRequest{ProgramID: strings.ToUpper(progID[4:]), Input: []byte("hi"), RequestID: "r1", FuelLimit: 9})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := res.Output()
	if string(out) != "HI" || res.Fuel != 7 || res.Height != 3 || !res.Replayed || len(res.Logs) != 1 {
		t.Fatalf("%+v", res)
	}
	var sent map[string]any
	_ = json.Unmarshal(rec.body, &sent)
	if sent["program_id"] != progID || sent["input_base64"] != base64.StdEncoding.EncodeToString([]byte("hi")) || sent["request_id"] != "r1" || sent["fuel_limit"] != 9.0 {
		t.Fatalf("sent %s", rec.body)
	}

	c, _ = fake(t, http.StatusUnprocessableEntity, `{"error":{"code":"trap","message":"boom","fuel_used":42,"logs":[{"source":"guest","level":3,"message":"why"}]}}`)
	_, err = c.Execute(t.Context(), ExecuteRequest{ProgramID: progID})
	var xe *ExecError
	var ce *Error
	if !errors.As(err, &xe) || !errors.As(err, &ce) || ce.Code != "trap" || ce.Status != 422 || *xe.FuelUsed != 42 || xe.Logs[0].Message != "why" {
		t.Fatalf("%v", err)
	}
	if _, err := c.Execute(t.Context(), ExecuteRequest{ProgramID: "blob" + progID[4:]}); err == nil || !strings.Contains(err.Error(), "expected program id") {
		t.Fatalf("blob id accepted: %v", err)
	}
}

func TestProgramQueries(t *testing.T) {
	c, rec := fake(t, http.StatusOK, `{"program_id":"`+progID+`","root":"ff","height":2,"proof":["aa"],"value_hex":"6869","present":true}`)
	h := uint64(2)
	sr, err := c.StateRoot(t.Context(), progID, []byte("k"), StateQuery{Height: &h})
	if err != nil || *sr.ValueHex != "6869" || !*sr.Present || rec.path != "/programs/"+progID+"/state-root" || rec.query != "height=2&key=6b" {
		t.Fatalf("%+v %v %+v", sr, err, rec)
	}
	c, rec = fake(t, http.StatusOK, `{"programs":[{"program_id":"`+progID+`","version":1}],"next_cursor":"x"}`)
	page, err := c.Catalog(t.Context(), "prog1", 5)
	if err != nil || len(page.Programs) != 1 || *page.NextCursor != "x" || rec.query != "cursor=prog1&limit=5" {
		t.Fatalf("%+v %v %+v", page, err, rec)
	}
	c, rec = fake(t, http.StatusOK, `{"receipts":[{"height":1,"gas_used":5}],"next_cursor":null}`)
	rp, err := c.Receipts(t.Context(), progID, "", 0)
	if err != nil || rp.Receipts[0].GasUsed != 5 || rp.NextCursor != nil || rec.path != "/programs/"+progID+"/receipts" || rec.query != "" {
		t.Fatalf("%+v %v", rp, err)
	}
	c, _ = fake(t, http.StatusNotFound, `{"error":{"code":"not_found","message":"receipt 00: not found"}}`)
	if _, err := c.Receipt(t.Context(), strings.Repeat("0", 64)); !IsNotFound(err) {
		t.Fatalf("%v", err)
	}
	c, _ = fake(t, http.StatusOK, `{"program_id":"`+progID+`","epoch":0,"members":[{"node":"aa","weight":1,"bls_public_key":"bb"}],"threshold":1}`)
	cm, err := c.Committee(t.Context(), progID)
	if err != nil || cm.Members[0].BLSPublicKey != "bb" || cm.Threshold != 1 {
		t.Fatalf("%+v %v", cm, err)
	}
}

// TestExecuteRetriesCompiling: a 503 compiling (nothing ran, the program is still compiling
// on the node) is tried again after its Retry-After; other errors are returned at once.
func TestExecuteRetriesCompiling(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch calls.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":{"code":"compiling","message":"still compiling"}}`)
		case 2:
			io.WriteString(w, `{"return_base64":"eA==","fuel":3}`)
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":{"code":"cancelled","message":"no"}}`)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Execute(t.Context(), ExecuteRequest{ProgramID: progID})
	if err != nil || res.Fuel != 3 || calls.Load() != 2 {
		t.Fatalf("Execute = %+v, %v after %d calls, want the second answer", res, err, calls.Load())
	}
	var ce *Error
	if _, err := c.Execute(t.Context(), ExecuteRequest{ProgramID: progID}); !errors.As(err, &ce) || ce.Code != "cancelled" || calls.Load() != 3 {
		t.Fatalf("Execute = %v after %d calls, want the cancelled error at once", err, calls.Load())
	}
}
