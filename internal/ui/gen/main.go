// Command gen writes the dashboard's bundle into internal/ui/dist; run it
// with go generate ./internal/ui after changing internal/ui/src or
// clients/ts, and commit the result.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/onvm-network/onvm/internal/ui/build"
)

func main() {
	files, err := build.Bundle(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, "ui bundle:", err)
		os.Exit(1)
	}
	for _, name := range build.Files {
		if err := os.WriteFile(filepath.Join("dist", name), files[name], 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "ui bundle:", err)
			os.Exit(1)
		}
	}
}
