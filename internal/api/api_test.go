package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onvm-network/onvm/internal/id"
)

// goldenResponse renders a response for a golden file: status, content type
// and the JSON body (created_at replaced, since it is the store's clock).
func goldenResponse(t *testing.T, resp *reply, body []byte) []byte {
	t.Helper()
	var v any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("body is not JSON: %v: %s", err, body)
		}
		if m, ok := v.(map[string]any); ok {
			if s, ok := m["created_at"].(string); ok {
				if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
					t.Errorf("created_at %q: %v", s, err)
				}
				m["created_at"] = "<time>"
			}
		}
	} else {
		v = string(body)
	}
	out, err := json.MarshalIndent(map[string]any{
		"status":       resp.StatusCode,
		"content_type": resp.Header.Get("Content-Type"),
		"allow":        resp.Header.Get("Allow"),
		"body":         v,
	}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

func TestGolden(t *testing.T) {
	n := newTestNode(t, func(o *Options) { o.RPC.MaxBlobSize = 1000 })
	hello := []byte("hello, onvm\n")
	helloID := id.BlobOf(hello).String()
	unknown := id.BlobOf([]byte("never stored")).String()
	progID := "prog" + strings.Repeat("ab", 32)

	tests := []struct {
		name   string
		method string
		path   string
		header http.Header
		body   string
	}{
		{"health", "GET", "/health", nil, ""},
		{"liveness", "GET", "/health/liveness", nil, ""},
		{"readiness", "GET", "/health/readiness", nil, ""},
		{"node_metrics", "GET", "/health/metrics", nil, ""},
		{"upload_new", "POST", "/blobs", http.Header{"X-Mime": {"text/plain"}}, string(hello)},
		{"upload_existing", "POST", "/blobs", nil, string(hello)},
		{"upload_empty", "POST", "/blobs", nil, ""},
		{"upload_bad_mime", "POST", "/blobs", http.Header{"Content-Type": {"text/"}}, "x"},
		{"upload_too_large", "POST", "/blobs", http.Header{"Content-Length": {"2000"}}, strings.Repeat("x", 2000)},
		{"info", "GET", "/blobs/" + helloID + "/info", nil, ""},
		{"info_unknown", "GET", "/blobs/" + unknown + "/info", nil, ""},
		{"get_unknown", "GET", "/blobs/" + unknown, nil, ""},
		{"get_bad_id", "GET", "/blobs/xyz", nil, ""},
		{"get_short_id", "GET", "/blobs/blobabcd", nil, ""},
		{"get_prog_id", "GET", "/blobs/" + progID, nil, ""},
		{"get_range_unsatisfiable", "GET", "/blobs/" + helloID, http.Header{"Range": {"bytes=100-200"}}, ""},
		{"no_route", "GET", "/nope", nil, ""},
		{"wrong_method", "DELETE", "/blobs/" + helloID, nil, ""},
		{"wrong_method_collection", "GET", "/blobs", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body *strings.Reader
			if tt.body != "" || tt.method == "POST" {
				body = strings.NewReader(tt.body)
			}
			var resp *reply
			var b []byte
			if body != nil {
				resp, b = n.do(tt.method, tt.path, tt.header, body)
			} else {
				resp, b = n.do(tt.method, tt.path, tt.header, nil)
			}
			golden(t, tt.name+".json", goldenResponse(t, resp, b))
		})
	}
}

func TestGoldenLivenessModes(t *testing.T) {
	for _, dev := range []bool{false, true} {
		n := newTestNode(t, func(o *Options) { o.Dev = dev })
		resp, b := n.do("GET", "/health/liveness", nil, nil)
		golden(t, fmt.Sprintf("liveness_dev_%v.json", dev), goldenResponse(t, resp, b))
	}
}

func TestGetBlobHeaders(t *testing.T) {
	n := newTestNode(t, nil)
	tests := []struct {
		mime, wantType string
		attachment     bool
	}{
		{"", "application/octet-stream", false},
		{"text/plain; charset=utf-8", "text/plain; charset=utf-8", false},
		{"image/png", "image/png", false},
		{"text/html", "text/html", true},
		{"image/svg+xml", "image/svg+xml", true},
		{"application/xhtml+xml", "application/xhtml+xml", true},
	}
	for _, tt := range tests {
		t.Run(tt.wantType, func(t *testing.T) {
			data := []byte("<html><script>alert(1)</script></html>" + tt.mime)
			blobID := n.upload(data, tt.mime)
			resp, body := n.do("GET", "/blobs/"+blobID, nil, nil)
			if resp.StatusCode != 200 || !bytes.Equal(body, data) {
				t.Fatalf("GET = %d, %q", resp.StatusCode, body)
			}
			h := resp.Header
			if got := h.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			if h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
				t.Errorf("missing nosniff or CSP sandbox: %v", h)
			}
			if got := h.Get("Content-Disposition") == "attachment"; got != tt.attachment {
				t.Errorf("attachment = %v, want %v", got, tt.attachment)
			}
			if h.Get("ETag") != `"`+blobID+`"` {
				t.Errorf("ETag = %q", h.Get("ETag"))
			}
			if h.Get("Accept-Ranges") != "bytes" {
				t.Errorf("Accept-Ranges = %q", h.Get("Accept-Ranges"))
			}
		})
	}
}

func TestGetBlobAcceptsIDForms(t *testing.T) {
	n := newTestNode(t, nil)
	data := []byte("forms")
	blobID := n.upload(data, "")
	hexID := strings.TrimPrefix(blobID, "blob")
	for _, form := range []string{blobID, hexID, strings.ToUpper(blobID), "BLOB" + hexID} {
		resp, body := n.do("GET", "/blobs/"+form, nil, nil)
		if resp.StatusCode != 200 || string(body) != "forms" {
			t.Errorf("GET %s = %d %q", form, resp.StatusCode, body)
		}
	}
}

func TestMetricsEndpoint(t *testing.T) {
	n := newTestNode(t, nil)
	n.upload([]byte("counted"), "")
	n.do("GET", "/blobs/nope", nil, nil)
	resp, body := n.do("GET", "/metrics", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics = %d", resp.StatusCode)
	}
	for _, want := range []string{
		`onvm_http_requests_total{code="201",method="POST",route="POST /blobs"} 1`,
		`onvm_http_requests_total{code="400",method="GET",route="GET /blobs/{id}"} 1`,
		`onvm_http_request_body_bytes_total{route="POST /blobs"} 7`,
		"onvm_blob_store_blobs 1",
		"onvm_blob_store_bytes 7",
		`onvm_build_info{version="test"} 1`,
		"onvm_http_request_duration_seconds_bucket",
		"go_goroutines",
		"process_resident_memory_bytes",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
