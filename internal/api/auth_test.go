package api

import (
	"bytes"

	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/client/wire"
	"github.com/onvm-network/onvm/internal/auth"
	"github.com/onvm-network/onvm/internal/id"
)

// authNode is a test node with authentication on, one project "p", and a
// log captured at debug level.
type authNode struct {
	*testNode
	store  *auth.Store
	secret []byte
	cookie string
	log    *syncBuffer
	extra  map[string][]byte // secretOf
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func newAuthNode(t *testing.T, cfg auth.Config, modify func(*Options)) *authNode {
	t.Helper()
	db, err := pebble.Open("auth", &pebble.Options{FS: vfs.NewMem(), Logger: quietPebble{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	store, err := auth.Open(db, bytes.Repeat([]byte{1}, 32), cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := store.Create("p", nil)
	if err != nil {
		t.Fatal(err)
	}
	an := &authNode{store: store, secret: secret, cookie: strings.Repeat("c0", 32), log: &syncBuffer{}}
	an.testNode = newTestNode(t, func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(an.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
		o.Auth = AuthOptions{Verifier: store, Projects: store, Cookie: an.cookie, MaxBody: 1 << 20}
		o.NodeID = id.Node{0x0e, byte(len(t.Name()))}
		if modify != nil {
			modify(o)
		}
	})
	return an
}

// signedRequest builds a request signed by hand, so each field can be
// wrong on purpose.
type signedRequest struct {
	method, path string
	body         []byte // sent
	signedBody   []byte // hashed into the signature (default: body)
	project      string
	secret       []byte
	ts           time.Time
	nonce        string
}

func (n *authNode) send(t *testing.T, s signedRequest) (*http.Response, wire.ErrorDetail) {
	t.Helper()
	if s.project == "" {
		s.project = "p"
	}
	if s.secret == nil {
		s.secret = n.secret
	}
	if s.ts.IsZero() {
		s.ts = time.Now()
	}
	if s.nonce == "" {
		s.nonce = fmt.Sprintf("nonce-%d", time.Now().UnixNano())
	}
	if s.signedBody == nil {
		s.signedBody = s.body
	}
	h := auth.Headers{ProjectID: s.project, Timestamp: s.ts.UnixMilli(), Nonce: s.nonce, BodySHA256: sha256.Sum256(s.signedBody)}
	h.Signature = auth.Sign(s.secret, n.srv.nodeID, s.method, s.path, h)
	req, _ := http.NewRequest(s.method, n.url+s.path, bytes.NewReader(s.body))
	auth.SetHeaders(req.Header, h)
	return n.roundTrip(t, req)
}

func (n *authNode) roundTrip(t *testing.T, req *http.Request) (*http.Response, wire.ErrorDetail) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e wire.ErrorBody
	_ = json.Unmarshal(b, &e)
	return resp, e.Error
}

func (n *authNode) client(t *testing.T, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(n.url, append([]client.Option{client.WithCredentials(client.Credentials{ProjectID: "p", Secret: n.secret})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAuthRejections(t *testing.T) {
	n := newAuthNode(t, auth.Config{Skew: time.Minute}, nil)
	tests := []struct {
		name   string
		req    signedRequest
		status int
		code   string
	}{
		{"valid", signedRequest{method: "GET", path: "/auth/check"}, 200, ""},
		{"unknown project", signedRequest{method: "GET", path: "/auth/check", project: "nobody"}, 401, "unknown_project"},
		{"bad MAC", signedRequest{method: "GET", path: "/auth/check", secret: make([]byte, 32)}, 401, "bad_signature"},
		{"query changed", signedRequest{method: "GET", path: "/auth/check?x=1"}, 200, ""},
		{"stale", signedRequest{method: "GET", path: "/auth/check", ts: time.Now().Add(-2 * time.Minute)}, 401, "bad_timestamp"},
		{"future", signedRequest{method: "GET", path: "/auth/check", ts: time.Now().Add(2 * time.Minute)}, 401, "bad_timestamp"},
		{"body tampered after signing", signedRequest{method: "POST", path: "/auth/check", body: []byte("evil"), signedBody: []byte("good")}, 401, "body_hash_mismatch"},
		{"binary body", signedRequest{method: "POST", path: "/auth/check", body: []byte{0xff, 0xfe, 0x80}}, 405, "method_not_allowed"},
		{"binary body differing only in invalid UTF-8 (S12)", signedRequest{method: "POST", path: "/auth/check", body: []byte{0xff, 0xfe, 0x81}, signedBody: []byte{0xff, 0xfe, 0x80}}, 401, "body_hash_mismatch"},
		{"replayed nonce", signedRequest{method: "GET", path: "/auth/check", nonce: "fixed-nonce-1"}, 200, ""},
		{"replayed nonce again", signedRequest{method: "GET", path: "/auth/check", nonce: "fixed-nonce-1"}, 401, "replayed_nonce"},
		{"signed unknown route", signedRequest{method: "GET", path: "/nothing"}, 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, e := n.send(t, tt.req)
			if resp.StatusCode != tt.status || e.Code != tt.code {
				t.Fatalf("got %d %q (%s), want %d %q", resp.StatusCode, e.Code, e.Message, tt.status, tt.code)
			}
			if resp.StatusCode == 401 && resp.Header.Get("WWW-Authenticate") != auth.Scheme {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
	// Missing and malformed headers.
	for _, tt := range []struct {
		name string
		edit func(http.Header)
		code string
		msg  string
	}{
		{"no headers", func(h http.Header) { h.Del(auth.HeaderProjectID); h.Del(auth.HeaderSignature) }, "missing_auth_header", "x-project-id"},
		{"no signature", func(h http.Header) { h.Del(auth.HeaderSignature) }, "missing_auth_header", "x-signature"},
		{"no body hash", func(h http.Header) { h.Del(auth.HeaderContentSHA256) }, "missing_auth_header", "x-content-sha256"},
		{"bad timestamp", func(h http.Header) { h.Set(auth.HeaderTimestamp, "soon") }, "malformed_auth_header", "x-timestamp"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := auth.Headers{ProjectID: "p", Timestamp: time.Now().UnixMilli(), Nonce: "nonce-hdr-" + tt.name[:2], BodySHA256: auth.EmptyBodySHA256}
			h.Signature = auth.Sign(n.secret, n.srv.nodeID, "GET", "/auth/check", h)
			req, _ := http.NewRequest("GET", n.url+"/auth/check", nil)
			auth.SetHeaders(req.Header, h)
			tt.edit(req.Header)
			resp, e := n.roundTrip(t, req)
			if resp.StatusCode != 401 || e.Code != tt.code || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("got %d %q %q", resp.StatusCode, e.Code, e.Message)
			}
		})
	}
}

func TestAuthPublicRoutes(t *testing.T) {
	for _, public := range []bool{false, true} {
		n := newAuthNode(t, auth.Config{}, func(o *Options) { o.Auth.PublicMetrics = public })
		for path, want := range map[string]int{
			"/health": 200, "/health/liveness": 200, "/health/readiness": 200,
			"/metrics":        map[bool]int{false: 401, true: 200}[public],
			"/health/metrics": map[bool]int{false: 401, true: 200}[public],
			"/blobs/" + id.BlobOf([]byte("x")).String(): 401,
			"/auth/check": 401,
		} {
			rep, _ := n.do("GET", path, nil, nil)
			if rep.StatusCode != want {
				t.Errorf("public_metrics=%v GET %s = %d, want %d", public, path, rep.StatusCode, want)
			}
		}
	}
}

func TestAuthClientRoundTrip(t *testing.T) {
	n := newAuthNode(t, auth.Config{}, nil)
	c := n.client(t)
	data := bytes.Repeat([]byte("signed upload "), 50000)
	ref, err := c.UploadBlob(t.Context(), bytes.NewReader(data), int64(len(data)), "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := c.GetBlob(t.Context(), ref.ID, &out); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("GetBlob: %v", err)
	}
	// A streamed body with its hash given up front is not buffered.
	sum := sha256.Sum256(data)
	ctx := client.WithBodySHA256(t.Context(), sum)
	if _, err := c.UploadBlob(ctx, io.MultiReader(bytes.NewReader(data)), int64(len(data)), ""); err != nil {
		t.Fatal(err)
	}
	// Unsigned: 401 through the client's error type.
	plain, _ := client.New(n.url)
	_, err = plain.BlobInfo(t.Context(), ref.ID)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 401 || ce.Code != "missing_auth_header" {
		t.Fatalf("unsigned = %v", err)
	}
}

// TestAuthStreamedBodyHashMismatch: a blob upload whose bytes differ from
// the signed x-content-sha256 is rejected at the end of the stream and
// nothing is stored.
func TestAuthStreamedBodyHashMismatch(t *testing.T) {
	n := newAuthNode(t, auth.Config{}, nil)
	c := n.client(t)
	data := bytes.Repeat([]byte{0xab}, 3<<20)
	wrong := sha256.Sum256([]byte("something else"))
	_, err := c.UploadBlob(client.WithBodySHA256(t.Context(), wrong), bytes.NewReader(data), int64(len(data)), "")
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 401 || ce.Code != "body_hash_mismatch" {
		t.Fatalf("upload with wrong hash = %v", err)
	}
	if _, err := c.BlobInfo(t.Context(), id.BlobOf(data).String()); !client.IsNotFound(err) {
		t.Fatalf("blob stored despite the mismatch: %v", err)
	}
	waitFor(t, "temp files removed", func() bool { return len(n.tempFiles()) == 0 })
}

// countingBody counts what the server read of a request body.
type countingReadCloser struct {
	r io.Reader
	n int64
}

func (c *countingReadCloser) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	return k, err
}
func (c *countingReadCloser) Close() error { return nil }

// TestAuthOversizeBodyNotBuffered: a body over rpc_auth.max_body_size is
// refused without reading it when its length is declared, and after at
// most max+1 bytes when it is not.
func TestAuthOversizeBodyNotBuffered(t *testing.T) {
	const max = 1 << 20
	n := newAuthNode(t, auth.Config{}, nil)
	for _, declared := range []bool{true, false} {
		body := &countingReadCloser{r: io.LimitReader(zeroReader{}, 10*max)}
		h := auth.Headers{ProjectID: "p", Timestamp: time.Now().UnixMilli(), Nonce: "nonce-big-" + strconv.FormatBool(declared), BodySHA256: auth.EmptyBodySHA256}
		h.Signature = auth.Sign(n.secret, n.srv.nodeID, "POST", "/auth/check", h)
		req := httptest.NewRequest("POST", "/auth/check", body)
		req.ContentLength = -1
		if declared {
			req.ContentLength = 10 * max
		}
		auth.SetHeaders(req.Header, h)
		rec := httptest.NewRecorder()
		n.srv.Handler().ServeHTTP(rec, req)
		if rec.Code != 413 {
			t.Fatalf("declared=%v: status %d %s", declared, rec.Code, rec.Body)
		}
		limit := int64(0)
		if !declared {
			limit = max + 1
		}
		if body.n > limit {
			t.Fatalf("declared=%v: read %d bytes of the body, want at most %d", declared, body.n, limit)
		}
	}
	// Unauthenticated: not one byte is read.
	body := &countingReadCloser{r: io.LimitReader(zeroReader{}, 10*max)}
	req := httptest.NewRequest("POST", "/blobs", body)
	rec := httptest.NewRecorder()
	n.srv.Handler().ServeHTTP(rec, req)
	if rec.Code != 401 || body.n != 0 {
		t.Fatalf("unsigned upload: %d, read %d bytes", rec.Code, body.n)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestAuthRateLimitPerProject(t *testing.T) {
	n := newAuthNode(t, auth.Config{RatePerMinute: 1}, nil)
	_, other, _ := n.store.Create("q", nil)
	if resp, e := n.send(t, signedRequest{method: "GET", path: "/auth/check"}); resp.StatusCode != 200 {
		t.Fatalf("first: %d %v", resp.StatusCode, e)
	}
	if resp, e := n.send(t, signedRequest{method: "GET", path: "/auth/check"}); resp.StatusCode != 429 || e.Code != "rate_limited" {
		t.Fatalf("second: %d %v", resp.StatusCode, e)
	}
	if resp, e := n.send(t, signedRequest{method: "GET", path: "/auth/check", project: "q", secret: other}); resp.StatusCode != 200 {
		t.Fatalf("other project limited: %d %v", resp.StatusCode, e)
	}
}

func TestAdminRoutes(t *testing.T) {
	n := newAuthNode(t, auth.Config{}, nil)
	admin := func(method, path, cookie, body string) (*http.Response, []byte) {
		req, _ := http.NewRequest(method, n.url+path, strings.NewReader(body))
		if cookie != "" {
			req.Header.Set(auth.HeaderAdminCookie, cookie)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	if resp, _ := admin("GET", "/admin/projects", "", ""); resp.StatusCode != 403 {
		t.Fatalf("no cookie: %d", resp.StatusCode)
	}
	if resp, _ := admin("GET", "/admin/projects", strings.Repeat("00", 32), ""); resp.StatusCode != 403 {
		t.Fatalf("wrong cookie: %d", resp.StatusCode)
	}
	// The right cookie from a non-loopback peer is refused too.
	req := httptest.NewRequest("GET", "/admin/projects", nil)
	req.RemoteAddr = "192.0.2.7:4000"
	req.Header.Set(auth.HeaderAdminCookie, n.cookie)
	rec := httptest.NewRecorder()
	n.srv.Handler().ServeHTTP(rec, req)
	if rec.Code != 403 {
		t.Fatalf("remote admin: %d", rec.Code)
	}

	resp, b := admin("POST", "/admin/projects", n.cookie, `{"project_id":"team-a"}`)
	var created wire.CreatedProject
	if resp.StatusCode != 201 || json.Unmarshal(b, &created) != nil || created.ProjectID != "team-a" || len(created.ProjectSecret) != 64 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Error("secret-bearing response is cacheable")
	}
	if resp, _ := admin("POST", "/admin/projects", n.cookie, `{"project_id":"team-a"}`); resp.StatusCode != 409 {
		t.Fatalf("duplicate: %d", resp.StatusCode)
	}
	if resp, _ := admin("POST", "/admin/projects", n.cookie, `{"project_secret":"abcd"}`); resp.StatusCode != 400 {
		t.Fatalf("bad secret: %d", resp.StatusCode)
	}
	resp, b = admin("POST", "/admin/projects", n.cookie, "")
	if resp.StatusCode != 201 {
		t.Fatalf("random project: %d %s", resp.StatusCode, b)
	}
	resp, b = admin("GET", "/admin/projects", n.cookie, "")
	var list wire.ProjectList
	if resp.StatusCode != 200 || json.Unmarshal(b, &list) != nil || len(list.Projects) != 3 || strings.Contains(string(b), created.ProjectSecret) {
		t.Fatalf("list: %d %s", resp.StatusCode, b)
	}
	// The new project works at once; after revocation it gets 401 at once.
	secret, _ := hex.DecodeString(created.ProjectSecret)
	if resp, e := n.send(t, signedRequest{method: "GET", path: "/auth/check", project: "team-a", secret: secret}); resp.StatusCode != 200 {
		t.Fatalf("new project: %d %v", resp.StatusCode, e)
	}
	if resp, _ := admin("DELETE", "/admin/projects/team-a", n.cookie, ""); resp.StatusCode != 200 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if resp, e := n.send(t, signedRequest{method: "GET", path: "/auth/check", project: "team-a", secret: secret}); resp.StatusCode != 401 || e.Code != "unknown_project" {
		t.Fatalf("revoked project: %d %v", resp.StatusCode, e)
	}
	if resp, _ := admin("DELETE", "/admin/projects/team-a", n.cookie, ""); resp.StatusCode != 404 {
		t.Fatalf("revoke twice: %d", resp.StatusCode)
	}
}

func TestAuthCheckWhenOff(t *testing.T) {
	n := newTestNode(t, nil)
	rep, b := n.do("GET", "/auth/check", nil, nil)
	if rep.StatusCode != 200 || !strings.Contains(string(b), `"auth":"disabled"`) {
		t.Fatalf("%d %s", rep.StatusCode, b)
	}
	if rep, _ := n.do("GET", "/admin/projects", nil, nil); rep.StatusCode != 404 {
		t.Fatalf("admin routes without a store: %d", rep.StatusCode)
	}
}

// TestAuthSecretsNotLogged: the project secret, the admin cookie and MACs
// never reach the log, even at debug level and on failures.
func TestAuthSecretsNotLogged(t *testing.T) {
	n := newAuthNode(t, auth.Config{}, nil)
	c := n.client(t)
	if _, err := c.UploadBlob(t.Context(), strings.NewReader("x"), 1, ""); err != nil {
		t.Fatal(err)
	}
	n.send(t, signedRequest{method: "GET", path: "/auth/check", secret: make([]byte, 32)})
	req, _ := http.NewRequest("POST", n.url+"/admin/projects", strings.NewReader(`{"project_id":"z"}`))
	req.Header.Set(auth.HeaderAdminCookie, n.cookie)
	resp, b := n.roundTrip(t, req)
	_ = resp
	_ = b
	logs := n.log.String()
	if !strings.Contains(logs, "request not authenticated") {
		t.Fatal("log capture is not working")
	}
	for name, s := range map[string]string{"project secret": hex.EncodeToString(n.secret), "cookie": n.cookie} {
		if strings.Contains(logs, s) {
			t.Errorf("%s found in the log", name)
		}
	}
}

func TestCORS(t *testing.T) {
	n := newAuthNode(t, auth.Config{}, func(o *Options) { o.RPC.CORSOrigins = []string{"https://app.example"} })
	pre := func(origin string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", n.url+"/blobs", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "x-signature")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := pre("https://app.example")
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "X-Signature") ||
		resp.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("allowed preflight: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := pre("https://evil.example"); resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("denied preflight: %d %v", resp.StatusCode, resp.Header)
	}
	// An actual request from the allowed origin still needs a signature,
	// and its 401 is readable by the page.
	req, _ := http.NewRequest("GET", n.url+"/auth/check", nil)
	req.Header.Set("Origin", "https://app.example")
	resp, _ = n.roundTrip(t, req)
	if resp.StatusCode != 401 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Fatalf("actual request: %d %v", resp.StatusCode, resp.Header)
	}
	// Without configuration: no CORS headers at all.
	plain := newTestNode(t, nil)
	rep, _ := plain.do("GET", "/health", http.Header{"Origin": {"https://app.example"}}, nil)
	if rep.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("CORS header without configuration")
	}
}

// TestAuthSignatureNamesTheNode: a request signed for one node is refused
// by another node that holds the same project credentials, and the Go
// client learns the node id it signs for from /health/liveness.
func TestAuthSignatureNamesTheNode(t *testing.T) {
	a := newAuthNode(t, auth.Config{}, nil)
	b := newAuthNode(t, auth.Config{}, func(o *Options) { o.NodeID = id.Node{0xbb} })
	if _, _, err := b.store.Create("same", a.secretOf(t, "same")); err != nil {
		t.Fatal(err)
	}
	h := auth.Headers{ProjectID: "same", Timestamp: time.Now().UnixMilli(), Nonce: "nonce-replay-1", BodySHA256: auth.EmptyBodySHA256}
	h.Signature = auth.Sign(a.secretOf(t, "same"), a.srv.nodeID, "GET", "/auth/check", h)
	for _, tt := range []struct {
		n    *authNode
		want int
	}{{a, 200}, {b, 401}} {
		req, _ := http.NewRequest("GET", tt.n.url+"/auth/check", nil)
		auth.SetHeaders(req.Header, h)
		if resp, e := tt.n.roundTrip(t, req); resp.StatusCode != tt.want {
			t.Errorf("node %x: %d %v, want %d", tt.n.srv.nodeID[:1], resp.StatusCode, e, tt.want)
		}
	}
	if _, err := b.client(t).CheckAuth(t.Context()); err != nil {
		t.Fatalf("client signing for b: %v", err)
	}
}

// secretOf creates project p on n once and returns its secret.
func (n *authNode) secretOf(t *testing.T, p string) []byte {
	t.Helper()
	if n.extra == nil {
		n.extra = map[string][]byte{}
	}
	if s, ok := n.extra[p]; ok {
		return s
	}
	_, s, err := n.store.Create(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	n.extra[p] = s
	return s
}
