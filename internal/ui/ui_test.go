package ui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	h := Handler("/ui/", http.NotFound)
	tests := []struct {
		path   string
		status int
		ctype  string
		body   string
	}{
		{"/ui/", 200, "text/html; charset=utf-8", `src="app.js"`},
		{"/ui/index.html", 200, "text/html; charset=utf-8", "<title>"},
		{"/ui/app.js", 200, "text/javascript; charset=utf-8", "DO NOT EDIT"},
		{"/ui/app.css", 200, "text/css; charset=utf-8", "DO NOT EDIT"},
		{"/ui/icon.svg", 200, "image/svg+xml", "<svg"},
		{"/ui/missing.js", 404, "", ""},
		{"/ui/../ui.go", 404, "", ""},
		{"/ui/dist/app.js", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			if tt.status != 200 {
				return
			}
			hd := rec.Header()
			if got := hd.Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type %q, want %q", got, tt.ctype)
			}
			for k, want := range map[string]string{
				"Content-Security-Policy": CSP,
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "no-referrer",
				"X-Frame-Options":         "DENY",
			} {
				if got := hd.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if !strings.Contains(rec.Body.String(), tt.body) {
				t.Errorf("body does not contain %q", tt.body)
			}
			// A second request with the ETag is a 304.
			req := httptest.NewRequest(http.MethodGet, tt.path, nil)
			req.Header.Set("If-None-Match", hd.Get("ETag"))
			rec2 := httptest.NewRecorder()
			h.ServeHTTP(rec2, req)
			if rec2.Code != http.StatusNotModified {
				t.Errorf("revalidation: status %d, want 304", rec2.Code)
			}
		})
	}
}

// TestCSPIsStrict holds the policy to what the dashboard promises: nothing
// from another origin, no inline script or style, no eval, no framing.
func TestCSPIsStrict(t *testing.T) {
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "http:", "https:", "data:", "*"} {
		if strings.Contains(CSP, bad) {
			t.Errorf("CSP allows %q: %s", bad, CSP)
		}
	}
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(CSP, want) {
			t.Errorf("CSP lacks %q: %s", want, CSP)
		}
	}
}
