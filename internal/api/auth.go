package api

import (
	"bytes"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/onvm-network/onvm/client/wire"
	"github.com/onvm-network/onvm/internal/auth"
	"github.com/onvm-network/onvm/internal/id"
)

// Authentication. When Options.Auth.Verifier is set, every request except
// the public health routes must carry the signed-request headers of
// internal/auth (docs/security.md). The middleware parses them, has the
// verifier check project, timestamp, MAC, nonce and rate limit, and then
// checks the body against x-content-sha256:
//
//   - ordinary routes: the body (at most rpc_auth.max_body_size, refused by
//     Content-Length before any byte is read) is read and hashed before the
//     handler runs, so a handler never sees unverified bytes;
//   - streaming routes (blob upload): the body is wrapped so that its last
//     Read fails with auth.ErrBodyMismatch instead of io.EOF, which aborts
//     the blob store's Put before it commits anything.
//
// Admin routes (/admin/...) are not signed; they take the admin cookie
// (auth_admin.go).

// Verifier checks a request's authentication headers (auth.Store).
type Verifier interface {
	Verify(node id.Node, method, target string, h auth.Headers) error
}

// ProjectAdmin manages projects (auth.Store).
type ProjectAdmin interface {
	Create(id string, secret []byte) (auth.Project, []byte, error)
	List() []auth.Project
	Revoke(id string) error
}

// AuthOptions configures authentication; the zero value is "off".
type AuthOptions struct {
	// Verifier turns authentication on; nil means every route is open
	// (--dev, or rpc_auth.enable_rpc_auth = false).
	Verifier Verifier
	// Projects and Cookie enable the admin routes; nil or "" leaves them
	// out.
	Projects ProjectAdmin
	Cookie   string
	// MaxBody is rpc_auth.max_body_size (0 means 32 MiB); PublicMetrics
	// serves /metrics and /health/metrics unsigned.
	MaxBody       int64
	PublicMetrics bool
	// MaxExecutions and MaxDeploys bound the executions (POST /execute)
	// and deploys (POST /programs) each project has in flight at once;
	// another is 429 too_many_in_flight. 0 means no bound
	// (rpc_auth.max_executions_in_flight, max_deploys_in_flight).
	MaxExecutions int
	MaxDeploys    int
}

// publicRoutes never need a signature: liveness and readiness probes of
// orchestrators cannot sign, and they disclose nothing secret; the OpenAPI
// document is the same static file on every node.
var publicRoutes = map[string]bool{"/health": true, "/health/liveness": true, "/health/readiness": true, "/openapi.json": true}

// metricsRoutes are public only with rpc_auth.public_metrics.
var metricsRoutes = map[string]bool{"/metrics": true, "/health/metrics": true}

// streamingRoute reports whether the route's handler reads its body to
// the end itself and commits nothing unless it sees a clean EOF. Add a
// route here only if that holds.
func streamingRoute(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Path == "/blobs"
}

// isPublic reports whether r may go unsigned. Only a clean path can be
// public: the mux answers an unclean one (/admin/../jobs, //health) with a
// redirect to its cleaned form, and a prefix test on the raw path would
// let such a request past authentication to get that redirect.
func (s *Server) isPublic(r *http.Request) bool {
	p := r.URL.Path
	if p != cleanPath(p) {
		return false
	}
	return publicRoutes[p] || (s.opts.Auth.PublicMetrics && metricsRoutes[p]) || strings.HasPrefix(p, adminPrefix) || s.isUIPublic(p)
}

// cleanPath is the path http.ServeMux would route p to: rooted, with . and
// .. elements and repeated slashes removed, a trailing slash kept.
func cleanPath(p string) string {
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// authenticate is the authentication middleware; it is the identity when
// authentication is off.
func (s *Server) authenticate(next http.Handler) http.Handler {
	v := s.opts.Auth.Verifier
	if v == nil {
		return next
	}
	maxBody := s.opts.Auth.MaxBody
	if maxBody <= 0 {
		maxBody = 32 << 20
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.isPublic(r) {
			next.ServeHTTP(w, r)
			return
		}
		h, err := auth.ParseHeaders(r.Header)
		if err == nil {
			err = v.Verify(s.nodeID, r.Method, r.URL.RequestURI(), h)
		}
		if err != nil {
			s.rejectAuth(w, r, h.ProjectID, err)
			return
		}
		if streamingRoute(r) {
			r.Body = readCloser{Reader: auth.VerifyBody(r.Body, h.BodySHA256), Closer: r.Body}
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > maxBody {
			s.rejectAuth(w, r, h.ProjectID, auth.ErrBodyTooLarge)
			return
		}
		body, err := auth.ReadBody(r.Body, maxBody, h.BodySHA256)
		if err != nil {
			s.rejectAuth(w, r, h.ProjectID, err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}

// rejectAuth answers a request that failed authentication. The project id
// is logged (it is not secret); nothing else from the request is.
func (s *Server) rejectAuth(w http.ResponseWriter, r *http.Request, project string, err error) {
	s.log.Debug("request not authenticated", "method", r.Method, "path", r.URL.Path, "project", project, "err", err)
	w.Header().Set("WWW-Authenticate", auth.Scheme)
	s.writeError(w, r, err)
}

type readCloser struct {
	io.Reader
	io.Closer
}

// authRoutes registers GET /auth/check and, when configured, the admin
// routes.
func (s *Server) authRoutes(r *router) {
	r.handle(http.MethodGet, "/auth/check", s.authCheck)
	s.adminRoutes(r)
}

// authCheck answers a request that passed the middleware: with auth on it
// names the project whose signature verified.
func (s *Server) authCheck(w http.ResponseWriter, r *http.Request) {
	if s.opts.Auth.Verifier == nil {
		writeJSON(w, http.StatusOK, wire.AuthCheck{OK: true, Auth: "disabled"})
		return
	}
	writeJSON(w, http.StatusOK, wire.AuthCheck{OK: true, Auth: "enabled", ProjectID: r.Header.Get(auth.HeaderProjectID)})
}
