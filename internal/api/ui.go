package api

import (
	"net/http"
	"strings"

	"github.com/onvm-network/onvm/internal/ui"
)

// The dashboard (internal/ui) is served at /ui/ unless rpc.ui = false.
// GET / redirects to it and /explorer, the original's blob explorer, to its
// blob view. Its files are public: they hold no data, and every API call
// the dashboard makes is signed in the browser like any client's.

// uiPrefix is where the dashboard's files are served.
const uiPrefix = "/ui/"

// uiPublic are the paths that go unsigned with the dashboard on.
var uiPublic = map[string]bool{"/": true, "/explorer": true, "/ui": true}

func (s *Server) uiRoutes(r *router) {
	if !s.opts.RPC.UI {
		return
	}
	r.handle(http.MethodGet, "/{$}", redirect(uiPrefix))
	r.handle(http.MethodGet, "/explorer", redirect(uiPrefix+"#/blobs"))
	files := ui.Handler(uiPrefix, func(w http.ResponseWriter, req *http.Request) { s.writeError(w, req, errNoRoute) })
	r.handle(http.MethodGet, uiPrefix, func(w http.ResponseWriter, req *http.Request) { files.ServeHTTP(w, req) })
}

// redirect answers with a 302 to target, with the dashboard's headers.
func redirect(target string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ui.SetHeaders(w.Header())
		http.Redirect(w, r, target, http.StatusFound)
	}
}

// isUIPublic reports whether the clean path p is one of the dashboard's.
func (s *Server) isUIPublic(p string) bool {
	if !s.opts.RPC.UI {
		return false
	}
	return uiPublic[p] || strings.HasPrefix(p, uiPrefix)
}
