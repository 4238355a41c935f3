package build

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// notInClient are the documented routes the TypeScript client leaves out:
// the admin routes (a loopback tool's, with the admin cookie), the
// dashboard's files, the document itself and the plain-text health check.
var notInClient = map[string]bool{
	"/admin/projects": true, "/admin/projects/{id}": true, "/": true, "/explorer": true, "/ui/": true,
	"/openapi.json": true, "/health": true,
}

// TestClientCoversOpenAPI: every route of docs/openapi.json that a client
// calls has a method in clients/ts/onvm.ts, which builds its path from the
// route's literal pieces on one line.
func TestClientCoversOpenAPI(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &spec); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join("..", "..", "..", "clients", "ts", "onvm.ts"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	param := regexp.MustCompile(`\{[^}]+\}`)
	for path, ops := range spec.Paths {
		if notInClient[path] {
			continue
		}
		pieces := param.Split(path, -1)
		for method := range ops {
			found := false
			for _, l := range lines {
				if !strings.Contains(l, `"`+strings.ToUpper(method)+`"`) {
					continue
				}
				ok := true
				for _, p := range pieces {
					if p != "" && !strings.Contains(l, `"`+p+`"`) {
						ok = false
					}
				}
				if ok {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%s %s is documented but clients/ts/onvm.ts has no call of it", strings.ToUpper(method), path)
			}
		}
	}
}
