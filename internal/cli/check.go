package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/onvm-network/onvm/internal/wasm"
)

func (e *env) checkCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check a WebAssembly module offline, as deploy would",
		Long: `check runs the node's deploy-time validation on a module without any node: it decodes the
module, checks its imports against the ONVM host ABI (env.onvm_* and WASI preview 1), its
exported memory, the entrypoint's calling convention, and rejects features that break
determinism (SIMD, threads, start functions). It prints the imports, exports and the
entrypoint's signature (--json: the whole report) and exits 1 naming the first problem
when the module would be rejected.`,
		Example: "  onvm check --file echo.wasm\n  onvm check --file prog.wasm --entrypoint run --json",
		Args:    cobra.NoArgs,
		RunE:    e.runCheck,
	}
	cmd.Flags().String("file", "", "the .wasm module (required)")
	cmd.Flags().String("entrypoint", "onvm_main", "entrypoint to check; empty to skip")
	cmd.Flags().Bool("json", false, "print the report as JSON")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

func (e *env) runCheck(cmd *cobra.Command, _ []string) error {
	path, _ := cmd.Flags().GetString("file")
	entry, _ := cmd.Flags().GetString("entrypoint")
	asJSON, _ := cmd.Flags().GetBool("json")
	code, err := e.readInput(path, wasm.MaxCodeSize+1)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	rep, cerr := wasm.Check(code, entry)
	out := cmd.OutOrStdout()
	if asJSON {
		if err := printJSON(out, rep); err != nil {
			return err
		}
	} else {
		printf(out, "module %s: %d bytes\n", path, rep.Size)
		for _, im := range rep.Imports {
			printf(out, "import %s.%s %s %s\n", im.Module, im.Name, im.Kind, im.Type)
		}
		for _, ex := range rep.Exports {
			printf(out, "export %s %s %s\n", ex.Name, ex.Kind, ex.Type)
		}
		if rep.Memory != nil {
			printf(out, "memory: %d pages minimum\n", rep.Memory.MinPages)
		}
		if entry != "" && rep.Convention != 0 {
			printf(out, "entrypoint %s: %s convention\n", entry, rep.Convention)
		}
		for _, w := range rep.Warnings {
			printf(out, "warning: %s\n", w)
		}
		for _, p := range rep.Problems {
			printf(out, "problem: %s\n", p)
		}
	}
	if cerr != nil {
		var we *wasm.Error
		if errors.As(cerr, &we) {
			return fmt.Errorf("check %s: invalid module: %s", path, we.Message)
		}
		return fmt.Errorf("check %s: %w", path, cerr)
	}
	if !asJSON {
		printf(out, "ok\n")
	}
	return nil
}
