package api

import (
	"net/http"
	"strings"

	"github.com/onvm-network/onvm/client/wire"
	"github.com/onvm-network/onvm/internal/auth"
)

// CORS is off unless rpc.cors_allowed_origins lists origins. For a listed
// origin the API answers preflights (OPTIONS with
// Access-Control-Request-Method) itself, before authentication (a browser
// sends no custom headers on a preflight), and adds
// Access-Control-Allow-Origin to actual responses. Credentials (cookies,
// HTTP auth) are never allowed: requests authenticate with signed headers.
// Unlisted origins get no CORS headers, and their preflights a 403.

var errCORSDenied = &requestError{status: http.StatusForbidden, code: wire.CodeCORSDenied, msg: "origin not in rpc.cors_allowed_origins"}

// corsAllowHeaders are the request headers a browser client may send.
var corsAllowHeaders = strings.Join([]string{
	"Content-Type", "X-Mime", "Range", "If-None-Match",
	auth.HeaderProjectID, auth.HeaderTimestamp, auth.HeaderNonce, auth.HeaderContentSHA256, auth.HeaderSignature,
}, ", ")

// corsExposeHeaders are the response headers a browser client may read.
const corsExposeHeaders = "Location, ETag, Content-Length, Content-Range, Accept-Ranges, WWW-Authenticate, Retry-After"

func (s *Server) cors(next http.Handler) http.Handler {
	if len(s.opts.RPC.CORSOrigins) == 0 {
		return next
	}
	allowed := make(map[string]bool, len(s.opts.RPC.CORSOrigins))
	for _, o := range s.opts.RPC.CORSOrigins {
		allowed[o] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		ok := allowed[origin] && !strings.HasPrefix(r.URL.Path, adminPrefix)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			if !ok {
				s.writeError(w, r, errCORSDenied)
				return
			}
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE")
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if ok {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		}
		next.ServeHTTP(w, r)
	})
}
