package api

import (
	"net/http"
	"slices"
	"strings"
)

// routes lists every route group. Later layers add one line here and one
// file of handlers.
func (s *Server) routes(r *router) {
	s.healthRoutes(r)
	s.blobRoutes(r)
	s.programRoutes(r)
	s.jobRoutes(r)
	s.authRoutes(r)
	s.peerRoutes(r)
	s.dagRoutes(r)
	s.uiRoutes(r)
	s.openAPIRoutes(r)
	r.fallback(s)
}

// router wraps http.ServeMux so that an unknown path and a known path with
// the wrong method get JSON errors (404 and 405 with Allow) like every
// other error.
type router struct {
	mux     *http.ServeMux
	methods map[string][]string // path pattern → methods registered
	order   []string
}

func newRouter() *router {
	return &router{mux: http.NewServeMux(), methods: map[string][]string{}}
}

// handle registers h for "METHOD /path" (GET also serves HEAD).
func (r *router) handle(method, path string, h http.HandlerFunc) {
	r.mux.HandleFunc(method+" "+path, h)
	if _, ok := r.methods[path]; !ok {
		r.order = append(r.order, path)
	}
	r.methods[path] = append(r.methods[path], method)
	if method == http.MethodGet {
		r.methods[path] = append(r.methods[path], http.MethodHead)
	}
}

// fallback adds the 405 handlers for every registered path and the 404
// handler for everything else.
func (r *router) fallback(s *Server) {
	for _, path := range r.order {
		allowed := slices.Clone(r.methods[path])
		slices.Sort(allowed)
		allow := strings.Join(allowed, ", ")
		r.mux.HandleFunc(path, func(w http.ResponseWriter, req *http.Request) {
			w.Header().Set("Allow", allow)
			s.writeError(w, req, errMethodNotAllowed)
		})
	}
	r.mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		s.writeError(w, req, errNoRoute)
	})
}
