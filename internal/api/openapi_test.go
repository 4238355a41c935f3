package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/google/go-cmp/cmp"

	"github.com/onvm-network/onvm/internal/id"
)

// Interfaces with no implementation: enough for their routes to be
// registered, never called.
type (
	nopPrograms   struct{ programsAPI }
	nopJobService struct{ JobService }
	nopDAG        struct{ DAG }
	nopAdmin      struct{ ProjectAdmin }
)

// programsAPI names Programs under another name so that embedding it does
// not make a field called Programs, which would hide the method of that
// name.
type programsAPI = Programs

func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openAPI)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI 3 document: %v", err)
	}
	return doc
}

// TestOpenAPIMatchesRoutes: every registered route is documented and every
// documented route is registered, with the same methods.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	s := New(Options{
		RPC: func() (o Options) { o.RPC.UI = true; return }().RPC, Programs: nopPrograms{}, JobService: nopJobService{},
		Network: fakeNetwork{}, DAG: nopDAG{}, Auth: AuthOptions{Projects: nopAdmin{}, Cookie: "c"},
	})
	r := newRouter()
	s.routes(r)
	var registered []string
	for path, methods := range r.methods {
		if path == "/{$}" {
			path = "/"
		}
		for _, m := range methods {
			if m != http.MethodHead {
				registered = append(registered, m+" "+path)
			}
		}
	}
	var documented []string
	for path, item := range loadOpenAPI(t).Paths.Map() {
		for m := range item.Operations() {
			documented = append(documented, m+" "+path)
		}
	}
	slices.Sort(registered)
	slices.Sort(documented)
	if diff := cmp.Diff(registered, documented); diff != "" {
		t.Errorf("routes (-registered +documented in openapi.json):\n%s", diff)
	}
}

func TestOpenAPIDocsCopy(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, openAPI) {
		t.Error("docs/openapi.json differs from internal/api/openapi.json: copy it")
	}
}

// TestOpenAPIValidatesResponses sends real requests to a real server and
// validates each request and response against the document.
func TestOpenAPIValidatesResponses(t *testing.T) {
	doc := loadOpenAPI(t)
	doc.Servers = nil // match the test server's address
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	n := newTestNode(t, nil)
	blobID := n.upload([]byte("hello, openapi"), "text/plain")
	tests := []struct {
		method, path, ctype string
		body                []byte
		status              int
	}{
		{"GET", "/health/liveness", "", nil, 200},
		{"GET", "/health/readiness", "", nil, 200},
		{"GET", "/health/metrics", "", nil, 200},
		{"GET", "/auth/check", "", nil, 200},
		{"POST", "/blobs", "text/plain", []byte("new bytes"), 201},
		{"POST", "/blobs", "text/plain", []byte("new bytes"), 200},
		{"GET", "/blobs/" + blobID + "/info", "", nil, 200},
		{"GET", "/blobs/" + id.BlobOf([]byte("absent")).String() + "/info", "", nil, 404},
		{"GET", "/blobs/prog00/info", "", nil, 400},
		{"GET", "/openapi.json", "", nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tt.method, n.url+tt.path, bytes.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			route, params, err := router.FindRoute(req)
			if err != nil {
				t.Fatalf("not in the document: %v", err)
			}
			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
			if err := openapi3filter.ValidateRequest(t.Context(), in); err != nil {
				t.Errorf("request: %v", err)
			}
			req.Body = io.NopCloser(bytes.NewReader(tt.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
				Body: io.NopCloser(bytes.NewReader(body)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
			if err := openapi3filter.ValidateResponse(t.Context(), out); err != nil {
				t.Errorf("response %d %s: %v", resp.StatusCode, strings.TrimSpace(string(body)), err)
			}
		})
	}
}
