package build

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCommittedBundle fails when internal/ui/dist is not what the sources
// build: after changing internal/ui/src or clients/ts, run
// go generate ./internal/ui and commit dist/.
func TestCommittedBundle(t *testing.T) {
	got, err := Bundle("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Files {
		want, err := os.ReadFile(filepath.Join("..", "dist", name))
		if err != nil {
			t.Fatalf("committed bundle: %v", err)
		}
		if string(got[name]) != string(want) {
			t.Errorf("dist/%s is stale: run go generate ./internal/ui (%d bytes built, %d committed)", name, len(got[name]), len(want))
		}
	}
}

func TestBundleRefusesInlineScript(t *testing.T) {
	for name, html := range map[string]string{
		"script":  `<html><script>alert(1)</script></html>`,
		"handler": `<html><body onload="x()"></body></html>`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "src")
			if err := os.MkdirAll(src, 0o755); err != nil {
				t.Fatal(err)
			}
			for f, body := range map[string]string{"main.ts": "export {};\n", "app.css": "body{}\n", "index.html": html, "icon.svg": ""} {
				if err := os.WriteFile(filepath.Join(src, f), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := Bundle(dir); err == nil {
				t.Fatal("Bundle accepted an inline script")
			}
		})
	}
}

func TestBundleReportsTypeScriptErrors(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	for f, body := range map[string]string{"main.ts": "import { x } from './missing';\nconsole.log(x);\n", "app.css": "", "index.html": ""} {
		if err := os.WriteFile(filepath.Join(src, f), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Bundle(dir)
	if err == nil {
		t.Fatal("Bundle accepted an import of a missing module")
	}
}

// TestCommittedTypes fails when clients/ts/types.ts is not what
// docs/openapi.json generates: run go generate ./internal/ui and commit it.
func TestCommittedTypes(t *testing.T) {
	doc, err := os.ReadFile(OpenAPIPath(".."))
	if err != nil {
		t.Fatal(err)
	}
	want, err := Types(doc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(TypesPath(".."))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("clients/ts/types.ts is stale: run go generate ./internal/ui (%d bytes generated, %d committed)", len(want), len(got))
	}
}
