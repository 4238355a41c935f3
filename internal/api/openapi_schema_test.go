package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/google/go-cmp/cmp"

	"github.com/onvm-network/onvm/client/wire"
)

// documented names the component schemas of openapi.json that the paths
// refer to, by the client/wire type each one is. Struct types these
// contain become components of their own, named by their Go type.
var documented = map[string]any{
	"AuthCheck":        wire.AuthCheck{},
	"BlobInfo":         wire.BlobInfo{},
	"BlobRef":          wire.BlobRef{},
	"Catalog":          wire.CatalogPage{},
	"Committee":        wire.Committee{},
	"CreatedProject":   wire.CreatedProject{},
	"DAGAuthors":       wire.DAGAuthors{},
	"DAGEquivocations": wire.Equivocations{},
	"DAGHeads":         wire.DAGHeads{},
	"DeployRequest":    wire.DeployRequest{},
	"Error":            wire.ErrorBody{},
	"ExecuteRequest":   wire.ExecuteRequest{},
	"ExecuteResult":    wire.ExecuteResult{},
	"Job":              wire.Job{},
	"JobList":          wire.JobPage{},
	"JobLogs":          wire.JobLogs{},
	"JobOutput":        wire.JobOutput{},
	"JobRequest":       wire.SubmitJobRequest{},
	"JobSubmitted":     wire.SubmitJobResult{},
	"Liveness":         wire.Liveness{},
	"NewProject":       wire.NewProject{},
	"NodeMetrics":      wire.NodeMetrics{},
	"Peers":            wire.Peers{},
	"Program":          wire.Program{},
	"Projects":         wire.ProjectList{},
	"Readiness":        wire.Readiness{},
	"Receipt":          wire.Receipt{},
	"Receipts":         wire.ReceiptPage{},
	"RevokedProject":   wire.RevokedProject{},
	"StateRoot":        wire.StateRoot{},
	"Vertex":           wire.Vertex{},
}

// requestRequired lists, for the request bodies, the fields the node
// refuses to go without: encoding/json reads an absent field as its zero
// value, which for the others means "the node's default".
var requestRequired = map[string][]string{
	"DeployRequest":  {"entrypoint"},
	"ExecuteRequest": {"program_id"},
	"JobRequest":     {"request_id", "program_id"},
	"NewProject":     nil,
}

// enums are the string types whose values the document lists, each a
// component named by its Go type.
var enums = map[reflect.Type][]string{
	reflect.TypeFor[wire.JobStatus](): func() (s []string) {
		for _, v := range wire.JobStatuses {
			s = append(s, string(v))
		}
		return s
	}(),
}

// wireSchemas derives the component schemas from the wire types, the way
// encoding/json encodes them: a field with omitempty may be absent (not
// required); a pointer, slice or map without it may be null.
func wireSchemas() (map[string]any, error) {
	out := map[string]any{}
	names := map[reflect.Type]string{}
	for name, v := range documented {
		names[reflect.TypeOf(v)] = name
	}
	var schemaOf func(t reflect.Type) (map[string]any, error)
	component := func(t reflect.Type) (map[string]any, error) {
		name, ok := names[t]
		if !ok {
			name = t.Name()
			if other, taken := out[name]; taken && other != nil {
				return nil, fmt.Errorf("two components named %s", name)
			}
			names[t] = name
		}
		if _, done := out[name]; !done {
			out[name] = nil // being built: a recursive type refers to itself
			s, err := objectSchema(t, schemaOf)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if req, ok := requestRequired[name]; ok {
				delete(s, "required")
				if len(req) > 0 {
					s["required"] = req
				}
			}
			out[name] = s
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}, nil
	}
	schemaOf = func(t reflect.Type) (map[string]any, error) {
		switch {
		case t == reflect.TypeFor[time.Time]():
			return map[string]any{"type": "string", "format": "date-time"}, nil
		case t == reflect.TypeFor[json.RawMessage]():
			return map[string]any{}, nil
		}
		switch t.Kind() {
		case reflect.String:
			if vals, ok := enums[t]; ok {
				out[t.Name()] = map[string]any{"type": "string", "enum": vals}
				return map[string]any{"$ref": "#/components/schemas/" + t.Name()}, nil
			}
			return map[string]any{"type": "string"}, nil
		case reflect.Bool:
			return map[string]any{"type": "boolean"}, nil
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			return map[string]any{"type": "integer"}, nil
		case reflect.Float32, reflect.Float64:
			return map[string]any{"type": "number"}, nil
		case reflect.Pointer:
			return schemaOf(t.Elem())
		case reflect.Slice:
			items, err := schemaOf(t.Elem())
			if err != nil {
				return nil, err
			}
			return map[string]any{"type": "array", "items": items}, nil
		case reflect.Map:
			if t.Key().Kind() != reflect.String {
				return nil, fmt.Errorf("map key %s", t.Key())
			}
			vals, err := schemaOf(t.Elem())
			if err != nil {
				return nil, err
			}
			return map[string]any{"type": "object", "additionalProperties": vals}, nil
		case reflect.Struct:
			return component(t)
		}
		return nil, fmt.Errorf("no schema for %s", t)
	}
	for _, v := range documented {
		if _, err := component(reflect.TypeOf(v)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// objectSchema is the schema of struct t: its JSON fields, with embedded
// structs flattened as encoding/json does.
func objectSchema(t reflect.Type, schemaOf func(reflect.Type) (map[string]any, error)) (map[string]any, error) {
	props := map[string]any{}
	var required []string
	var walk func(t reflect.Type) error
	walk = func(t reflect.Type) error {
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				if err := walk(f.Type); err != nil {
					return err
				}
				continue
			}
			if name == "" {
				name = f.Name
			}
			s, err := schemaOf(f.Type)
			if err != nil {
				return fmt.Errorf("field %s: %w", f.Name, err)
			}
			omitempty := strings.Contains(","+opts+",", ",omitempty,")
			switch f.Type.Kind() {
			case reflect.Pointer, reflect.Slice, reflect.Map:
				if !omitempty && f.Type != reflect.TypeFor[json.RawMessage]() {
					if _, ref := s["$ref"]; ref {
						s = map[string]any{"allOf": []any{s}}
					}
					s["nullable"] = true
				}
			}
			props[name] = s
			if !omitempty {
				required = append(required, name)
			}
		}
		return nil
	}
	if err := walk(t); err != nil {
		return nil, err
	}
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s, nil
}

// TestOpenAPISchemasMatchWire holds the document's component schemas to
// the client/wire types the node encodes: a field added, removed or
// retyped there fails here until go test ./internal/api -run
// TestOpenAPISchemasMatchWire -update rewrites both copies of the
// document (and go generate ./internal/ui then the TypeScript types).
func TestOpenAPISchemasMatchWire(t *testing.T) {
	want, err := wireSchemas()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(openAPI))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	components := doc["components"].(map[string]any)
	if *update {
		components["schemas"] = want
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", " ")
		if err := enc.Encode(doc); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"openapi.json", filepath.Join("..", "..", "docs", "openapi.json")} {
			if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	// Compare as JSON values: the document's key order and numbers are
	// its own.
	wb, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var w, g any
	if err := json.Unmarshal(wb, &w); err != nil {
		t.Fatal(err)
	}
	gb, err := json.Marshal(components["schemas"])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(gb, &g); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("component schemas (-client/wire +openapi.json); rerun with -update:\n%s", diff)
	}
}

var (
	docRouterOnce sync.Once
	docRouter     routers.Router
	docRouterErr  error
)

// checkAnswer validates a JSON answer of the test server against
// openapi.json: its route, status and body must be documented. Every
// request the tests send through testNode.do is checked this way.
func checkAnswer(req *http.Request, resp *http.Response, body []byte) error {
	docRouterOnce.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(openAPI)
		if err != nil {
			docRouterErr = err
			return
		}
		doc.Servers = nil
		docRouter, docRouterErr = legacy.NewRouter(doc)
	})
	if docRouterErr != nil {
		return docRouterErr
	}
	switch {
	case req.Method == http.MethodHead:
		return nil // served wherever GET is, with no body
	case resp.StatusCode == http.StatusMethodNotAllowed, resp.StatusCode == http.StatusRequestHeaderFieldsTooLarge:
		return nil // any route's, said once in the document's description
	}
	route, params, err := docRouter.FindRoute(req)
	if err != nil {
		if resp.StatusCode == http.StatusNotFound {
			return nil // a path or method the API does not have
		}
		return fmt.Errorf("route: %w", err)
	}
	ct := resp.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/json") {
		return nil
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	return openapi3filter.ValidateResponse(req.Context(), out)
}
