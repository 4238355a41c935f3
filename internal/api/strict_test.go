package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/onvm-network/onvm/client/wire"
)

// TestStrictRequests: malformed queries, JSON with trailing data or
// unknown fields, non-standard base64 and an empty suffix range are
// refused, and nothing is committed by a refused execution.
func TestStrictRequests(t *testing.T) {
	n := newProgramNode(t, 1)
	code := sampleWasm(t, "echo")
	p := n.deployJSON(code, "onvm_main", "s")
	raw := http.Header{"Content-Type": {"application/wasm"}}
	hello := base64.StdEncoding.EncodeToString([]byte("hi?>"))
	urlSafe := base64.URLEncoding.EncodeToString([]byte("hi?>"))
	if hello == urlSafe {
		t.Fatal("sample input encodes the same in both alphabets")
	}
	tests := []struct {
		name, method, path string
		header             http.Header
		body               []byte
		status             int
		code, mention      string
	}{
		{"bad salt escape", "POST", "/programs?entrypoint=onvm_main&salt=%%%", raw, code, 400, "invalid_query", "salt"},
		{"bad entrypoint escape", "POST", "/programs?entrypoint=%zz", raw, code, 400, "invalid_query", "entrypoint"},
		{"semicolon", "GET", "/program-catalog?limit=1;x=2", nil, nil, 400, "invalid_query", "limit"},
		{"trailing data", "POST", "/execute", jsonHeader, []byte(`{"program_id":"` + p + `","input_base64":"` + hello + `"}xyz`), 400, "invalid_json", ""},
		{"second value", "POST", "/execute", jsonHeader, []byte(`{"program_id":"` + p + `","input_base64":"` + hello + `"} {}`), 400, "invalid_json", ""},
		{"unknown field", "POST", "/execute", jsonHeader, []byte(`{"program_id":"` + p + `","input_base64":"` + hello + `","fuel":1}`), 400, "invalid_json", ""},
		{"url-safe base64", "POST", "/execute", jsonHeader, []byte(`{"program_id":"` + p + `","input_base64":"` + urlSafe + `"}`), 400, "invalid_base64", ""},
		{"unpadded base64", "POST", "/execute", jsonHeader, []byte(`{"program_id":"` + p + `","input_base64":"` + strings.TrimRight(base64.StdEncoding.EncodeToString([]byte("x")), "=") + `"}`), 400, "invalid_base64", ""},
		{"url-safe salt", "POST", "/programs?entrypoint=onvm_main&salt=" + url.QueryEscape("-_-_"), raw, code, 400, "invalid_base64", "salt"},
		{"trailing white space is fine", "POST", "/execute", jsonHeader, []byte(`{"program_id":"` + p + `","input_base64":"` + hello + "\"}\n \n"), 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := n.do(tt.method, tt.path, tt.header, bytes.NewReader(tt.body))
			var e wire.ErrorBody
			_ = json.Unmarshal(body, &e)
			if resp.StatusCode != tt.status || e.Error.Code != tt.code || !strings.Contains(e.Error.Message, tt.mention) {
				t.Fatalf("got %d %s, want %d %q naming %q", resp.StatusCode, body, tt.status, tt.code, tt.mention)
			}
		})
	}
	// Only the one accepted execution committed.
	var sr wire.StateRoot
	n.getJSON("/programs/"+p+"/state-root", &sr)
	if sr.Height == nil || *sr.Height != 1 {
		t.Fatalf("height after the refused executions = %s, want 1", mustJSON(t, sr.Height))
	}
}

func TestEmptySuffixRangeIs416(t *testing.T) {
	n := newTestNode(t, nil)
	b := n.upload([]byte("some bytes"), "")
	for _, rng := range []string{"bytes=-0", "bytes=-00"} {
		resp, body := n.do("GET", "/blobs/"+b, http.Header{"Range": {rng}}, nil)
		var e wire.ErrorBody
		if resp.StatusCode != 416 || json.Unmarshal(body, &e) != nil || e.Error.Code != "range_not_satisfiable" || resp.Header.Get("Content-Range") != "bytes */10" {
			t.Fatalf("Range %s: %d %q %s", rng, resp.StatusCode, resp.Header.Get("Content-Range"), body)
		}
	}
	if resp, body := n.do("GET", "/blobs/"+b, http.Header{"Range": {"bytes=-1"}}, nil); resp.StatusCode != 206 || string(body) != "s" {
		t.Fatalf("bytes=-1: %d %q", resp.StatusCode, body)
	}
}

// TestHeaderTooLargeIsJSON: a header block over rpc.max_header_bytes is
// refused with 431 in the API's JSON error shape.
func TestHeaderTooLargeIsJSON(t *testing.T) {
	n := newTestNode(t, nil)
	big := strings.Repeat("a", n.srv.opts.RPC.MaxHeaderBytes+8<<10)
	resp, body := n.do("GET", "/health", http.Header{"X-Big": {big}}, nil)
	var e wire.ErrorBody
	if resp.StatusCode != 431 || json.Unmarshal(body, &e) != nil || e.Error.Code != "headers_too_large" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	if resp, _ := n.do("GET", "/health", http.Header{"X-Big": {big[:n.srv.opts.RPC.MaxHeaderBytes/2]}}, nil); resp.StatusCode != 200 {
		t.Fatalf("header under the limit: %d", resp.StatusCode)
	}
}

func FuzzCheckQuery(f *testing.F) {
	for _, s := range []string{"", "a=b", "salt=%%%", "a=%zz&b", "x;y=1", "a=%2B&b=+", "&&=&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if checkQuery(raw) == nil {
			if _, err := url.ParseQuery(raw); err != nil {
				t.Fatalf("checkQuery accepted %q, which url.ParseQuery refuses: %v", raw, err)
			}
		}
	})
}

func FuzzDecodeBase64(f *testing.F) {
	for _, s := range []string{"", "aGk=", "aGk", "a-_=", "aGk=\n", "aGl="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := decodeBase64(s)
		if err == nil && base64.StdEncoding.EncodeToString(b) != s {
			t.Fatalf("%q decoded to %x, which encodes differently: one value, two encodings", s, b)
		}
	})
}
