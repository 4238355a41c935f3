package api

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3 document of every route (docs/openapi.json is
// the same file). openapi_test.go holds it to the routes registered here
// and validates real responses against it.
//
//go:embed openapi.json
var openAPI []byte

func (s *Server) openAPIRoutes(r *router) {
	r.handle(http.MethodGet, "/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(openAPI)
	})
}
