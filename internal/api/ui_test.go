package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/onvm-network/onvm/internal/auth"
	"github.com/onvm-network/onvm/internal/ui"
)

// noRedirect is a client that reports redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func TestUIRoutes(t *testing.T) {
	n := newTestNode(t, nil)
	tests := []struct {
		path     string
		status   int
		location string
	}{
		{"/", http.StatusFound, "/ui/"},
		{"/explorer", http.StatusFound, "/ui/#/blobs"},
		{"/ui", http.StatusTemporaryRedirect, "/ui/"},
		{"/ui/", http.StatusOK, ""},
		{"/ui/app.js", http.StatusOK, ""},
		{"/ui/app.css", http.StatusOK, ""},
		{"/ui/nope.js", http.StatusNotFound, ""},
		{"/nope", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := noRedirect.Get(n.url + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if got := resp.Header.Get("Location"); got != tt.location {
				t.Errorf("Location %q, want %q", got, tt.location)
			}
			if tt.status == http.StatusOK || tt.status == http.StatusFound {
				if got := resp.Header.Get("Content-Security-Policy"); got != ui.CSP {
					t.Errorf("CSP %q, want the dashboard's", got)
				}
			}
			if tt.status == http.StatusNotFound && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Errorf("404 is %q, want the JSON error", resp.Header.Get("Content-Type"))
			}
		})
	}
	// A POST to the dashboard is a 405, not a file.
	rep, _ := n.do("POST", "/ui/app.js", nil, nil)
	if rep.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /ui/app.js = %d, want 405", rep.StatusCode)
	}
}

func TestUIOff(t *testing.T) {
	n := newTestNode(t, func(o *Options) { o.RPC.UI = false })
	for _, p := range []string{"/", "/explorer", "/ui/", "/ui/app.js"} {
		resp, err := noRedirect.Get(n.url + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("rpc.ui = false: GET %s = %d, want 404", p, resp.StatusCode)
		}
	}
}

// TestUIPublicWithAuth: the dashboard's files load without a signature on
// a node with authentication on (the browser signs its API calls), and
// nothing else becomes public with them.
func TestUIPublicWithAuth(t *testing.T) {
	for _, on := range []bool{true, false} {
		n := newAuthNode(t, auth.Config{}, func(o *Options) { o.RPC.UI = on })
		unsigned := map[bool]int{true: 200, false: 401}
		for path, want := range map[string]int{
			"/ui/": unsigned[on], "/ui/app.js": unsigned[on], "/": map[bool]int{true: 302, false: 401}[on],
			"/ui/../blobs": 401, "/uix": 401, "/peers": 401,
		} {
			req, _ := http.NewRequest(http.MethodGet, n.url+path, nil)
			req.URL.Path = path // keep ".." as sent
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("ui=%v GET %s unsigned = %d, want %d", on, path, resp.StatusCode, want)
			}
		}
	}
}
