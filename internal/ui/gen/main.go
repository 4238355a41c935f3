// Command gen writes the TypeScript client's types (clients/ts/types.ts,
// from docs/openapi.json) and the dashboard's bundle (internal/ui/dist);
// run it with go generate ./internal/ui after changing the document,
// internal/ui/src or clients/ts, and commit the result.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/onvm-network/onvm/internal/ui/build"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ui bundle:", err)
		os.Exit(1)
	}
}

func run() error {
	doc, err := os.ReadFile(build.OpenAPIPath("."))
	if err != nil {
		return err
	}
	types, err := build.Types(doc)
	if err != nil {
		return err
	}
	if err := os.WriteFile(build.TypesPath("."), types, 0o644); err != nil {
		return err
	}
	files, err := build.Bundle(".")
	if err != nil {
		return err
	}
	for _, name := range build.Files {
		if err := os.WriteFile(filepath.Join("dist", name), files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}
