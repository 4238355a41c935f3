package api

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/onvm-network/onvm/internal/auth"
)

// Admin routes manage projects. They are not signed with a project secret:
// they take the admin cookie that the node writes to <data-dir>/admin.cookie
// at every start, and only from a loopback peer. Whoever can read the data
// directory is the admin; the identity passphrase never crosses the network
// (the original's POST /rpc-auth/projects took it in clear: S9).
const adminPrefix = "/admin/"

// maxAdminBody bounds an admin request body.
const maxAdminBody = 4 << 10

var errAdminDenied = &requestError{status: http.StatusForbidden, code: "forbidden",
	msg: "admin routes need the admin cookie of this node's data directory and a loopback connection", err: auth.ErrAdminDenied}

func (s *Server) adminRoutes(r *router) {
	if s.opts.Auth.Projects == nil || s.opts.Auth.Cookie == "" {
		return
	}
	r.handle(http.MethodGet, "/admin/projects", s.admin(s.listProjects))
	r.handle(http.MethodPost, "/admin/projects", s.admin(s.createProject))
	r.handle(http.MethodDelete, "/admin/projects/{id}", s.admin(s.revokeProject))
}

// admin lets a request through only from loopback with the right cookie.
func (s *Server) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !isLoopback(r.RemoteAddr) || !auth.CookieEqual(s.opts.Auth.Cookie, r.Header.Get(auth.HeaderAdminCookie)) {
			s.writeError(w, r, errAdminDenied)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		h(w, r)
	}
}

func isLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ProjectList is the response to GET /admin/projects.
type ProjectList struct {
	Projects []auth.Project `json:"projects"`
}

// NewProject is the request of POST /admin/projects; both fields are
// optional (random when absent).
type NewProject struct {
	ProjectID     string `json:"project_id,omitempty"`
	ProjectSecret string `json:"project_secret,omitempty"` // 64 hex digits
}

// CreatedProject is the response to POST /admin/projects: the only answer
// that ever carries a project secret.
type CreatedProject struct {
	ProjectID     string    `json:"project_id"`
	ProjectSecret string    `json:"project_secret"`
	CreatedAt     time.Time `json:"created_at"`
}

// RevokedProject is the response to DELETE /admin/projects/{id}.
type RevokedProject struct {
	ProjectID string `json:"project_id"`
	Revoked   bool   `json:"revoked"`
}

func (s *Server) listProjects(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, ProjectList{Projects: s.opts.Auth.Projects.List()})
}

func (s *Server) createProject(w http.ResponseWriter, r *http.Request) {
	var req NewProject
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAdminBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil && !errors.Is(err, io.EOF) {
		s.writeError(w, r, badRequest("invalid_json", "body must be {\"project_id\"?, \"project_secret\"?}", nil))
		return
	}
	var secret []byte
	if req.ProjectSecret != "" {
		b, err := hex.DecodeString(req.ProjectSecret)
		if err != nil || len(b) != auth.SecretSize {
			s.writeError(w, r, badRequest("invalid_project", "project_secret must be 64 hex digits", nil))
			return
		}
		secret = b
	}
	p, secret, err := s.opts.Auth.Projects.Create(req.ProjectID, secret)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.Info("project created", "project", p.ID)
	writeJSON(w, http.StatusCreated, CreatedProject{ProjectID: p.ID, ProjectSecret: hex.EncodeToString(secret), CreatedAt: p.CreatedAt})
}

func (s *Server) revokeProject(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.opts.Auth.Projects.Revoke(id); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.Info("project revoked", "project", id)
	writeJSON(w, http.StatusOK, RevokedProject{ProjectID: id, Revoked: true})
}
