package api

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"

	"github.com/onvm-network/onvm/client/wire"
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

var errAdminDenied = &requestError{status: http.StatusForbidden, code: wire.CodeForbidden,
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

func (s *Server) listProjects(w http.ResponseWriter, r *http.Request) {
	out := wire.ProjectList{}
	if ps := s.opts.Auth.Projects.List(); ps != nil {
		out.Projects = make([]wire.Project, len(ps))
		for i, p := range ps {
			out.Projects[i] = wire.Project{ProjectID: p.ID, CreatedAt: p.CreatedAt}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createProject(w http.ResponseWriter, r *http.Request) {
	var req wire.NewProject
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAdminBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil && !errors.Is(err, io.EOF) {
		s.writeError(w, r, badRequest(wire.CodeInvalidJSON, "body must be {\"project_id\"?, \"project_secret\"?}", nil))
		return
	}
	var secret []byte
	if req.ProjectSecret != "" {
		b, err := hex.DecodeString(req.ProjectSecret)
		if err != nil || len(b) != auth.SecretSize {
			s.writeError(w, r, badRequest(wire.CodeInvalidProject, "project_secret must be 64 hex digits", nil))
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
	writeJSON(w, http.StatusCreated, wire.CreatedProject{ProjectID: p.ID, ProjectSecret: hex.EncodeToString(secret), CreatedAt: p.CreatedAt})
}

func (s *Server) revokeProject(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.opts.Auth.Projects.Revoke(id); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.Info("project revoked", "project", id)
	writeJSON(w, http.StatusOK, wire.RevokedProject{ProjectID: id, Revoked: true})
}
