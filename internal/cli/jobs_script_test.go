package cli

import (
	"path/filepath"

	"github.com/rogpeppe/go-internal/testscript"
)

// setupJobScripts sets $JOBWASM to internal/job/testdata, whose kv.wasm
// (put, echo, chatty) and limits.wasm (forever, div0, …) the jobs_*.txtar
// scripts deploy.
func setupJobScripts(env *testscript.Env) error {
	dir, err := filepath.Abs(filepath.Join("..", "job", "testdata"))
	if err != nil {
		return err
	}
	env.Setenv("JOBWASM", dir)
	return nil
}
