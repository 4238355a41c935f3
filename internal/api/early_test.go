package api

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onvm-network/onvm/internal/auth"
)

// rawHeaders sends a request's header block on a fresh TCP connection and
// no body, and returns the response that arrives within two seconds (the
// read deadline is 30 s, so a refusal that waits for the body fails here).
func rawHeaders(t *testing.T, url, head string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if _, err := conn.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no response within 2s: %v", err)
	}
	if resp.StatusCode == http.StatusContinue {
		t.Fatalf("server asked for the body (100 Continue) before refusing")
	}
	_ = resp.Body.Close()
	return resp
}

// TestEarlyRefusalWithoutBody: 401, 403 and 413 are answered from the
// headers alone, whether or not the client waits for 100 Continue, and the
// connection is closed after them.
func TestEarlyRefusalWithoutBody(t *testing.T) {
	n := newAuthNode(t, auth.Config{}, nil)
	signed := func(length int64) string {
		h := auth.Headers{ProjectID: "p", Timestamp: time.Now().UnixMilli(), Nonce: fmt.Sprintf("nonce-early-%d", time.Now().UnixNano()), BodySHA256: sha256.Sum256(nil)}
		h.Signature = auth.Sign(n.secret, n.srv.nodeID, "POST", "/execute", h)
		hdr := http.Header{}
		auth.SetHeaders(hdr, h)
		var b strings.Builder
		_ = hdr.Write(&b)
		return b.String()
	}
	for _, expect := range []bool{false, true} {
		for _, tt := range []struct {
			name   string
			head   func() string
			status int
		}{
			{"unsigned", func() string { return "POST /execute HTTP/1.1\r\nHost: n\r\nContent-Length: 100\r\n" }, 401},
			{"unsigned large", func() string { return "POST /execute HTTP/1.1\r\nHost: n\r\nContent-Length: 100000000\r\n" }, 401},
			{"signed too large", func() string {
				return "POST /execute HTTP/1.1\r\nHost: n\r\nContent-Length: 2000000\r\n" + signed(2000000)
			}, 413},
			{"admin without cookie", func() string { return "POST /admin/projects HTTP/1.1\r\nHost: n\r\nContent-Length: 100\r\n" }, 403},
		} {
			t.Run(fmt.Sprintf("%s expect=%v", tt.name, expect), func(t *testing.T) {
				head := tt.head()
				if expect {
					head += "Expect: 100-continue\r\n"
				}
				resp := rawHeaders(t, n.url, head+"\r\n")
				if resp.StatusCode != tt.status {
					t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
				}
				if !resp.Close {
					t.Errorf("connection kept open with the body unread")
				}
			})
		}
	}
}

// TestUncleanPathIsNotPublic: a path that only looks public before
// cleaning is authenticated like the route it cleans to, not redirected.
func TestUncleanPathIsNotPublic(t *testing.T) {
	n := newAuthNode(t, auth.Config{}, nil)
	for _, p := range []string{"/admin/../jobs", "/admin/projects/../../auth/check", "/health/../auth/check", "//health", "/admin/%2e%2e/jobs"} {
		resp := rawHeaders(t, n.url, "GET "+p+" HTTP/1.1\r\nHost: n\r\n\r\n")
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Location") != "" {
			t.Errorf("GET %s = %d (Location %q), want 401", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if resp := rawHeaders(t, n.url, "GET /health HTTP/1.1\r\nHost: n\r\n\r\n"); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /health = %d", resp.StatusCode)
	}
}
