package build

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// NodeTests bundles each clients/ts/test/*.test.mjs (seen from uiDir,
// internal/ui) with the client sources it imports into an ES module of
// its own under outDir, for node --test, and returns their paths.
func NodeTests(uiDir, outDir string) ([]string, error) {
	dir := filepath.Join(uiDir, "..", "..", "clients", "ts", "test")
	entries, err := filepath.Glob(filepath.Join(dir, "*.test.mjs"))
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("no tests in %s", dir)
	}
	var out []string
	for _, e := range entries {
		dst := filepath.Join(outDir, strings.TrimSuffix(filepath.Base(e), ".mjs")+".mjs")
		r := api.Build(api.BuildOptions{
			EntryPoints: []string{e},
			Bundle:      true,
			Write:       false,
			Format:      api.FormatESModule,
			Platform:    api.PlatformNode,
			Target:      api.ES2022,
			Outfile:     dst,
			LogLevel:    api.LogLevelSilent,
		})
		if err := buildErrors(r.Errors); err != nil {
			return nil, err
		}
		for _, f := range r.OutputFiles {
			if err := os.WriteFile(f.Path, f.Contents, 0o644); err != nil {
				return nil, err
			}
		}
		out = append(out, dst)
	}
	return out, nil
}
