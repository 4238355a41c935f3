package cli

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/internal/id"
)

// printJSON writes v as one line of JSON.
func printJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	printf(w, "%s\n", b)
	return nil
}

// readInput reads a file, or stdin for "-".
func (e *env) readInput(path string, max int64) ([]byte, error) {
	var r io.Reader = e.stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return b, nil
}

func (e *env) deployCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Deploy a WebAssembly program to a node",
		Long: `deploy streams a module to the node (POST /programs), which validates it against the host
ABI, instruments it for fuel, stores it and signs its manifest. The program id is
BLAKE3(module ‖ salt): deploying the same module with the same --salt again returns the
same program. Without --salt the node picks a random one. Prints {"id":"prog…"} on stdout
(the whole program description with --json) and a human-readable line on stderr.`,
		Example: "  onvm deploy --rpc :8080 --file echo.wasm --entrypoint onvm_main\n" +
			"  onvm deploy --file kvstore.wasm --entrypoint onvm_main --salt c2FsdA== --blob-refs blob<hex>",
		Args: cobra.NoArgs,
		RunE: e.runDeploy,
	}
	addRPCFlag(cmd)
	cmd.Flags().String("file", "", "the .wasm module (required)")
	cmd.Flags().String("entrypoint", "", "exported function to call (required), e.g. onvm_main")
	cmd.Flags().StringSlice("blob-refs", nil, "blob ids the program reads (repeat the flag or separate with commas)")
	cmd.Flags().String("salt", "", "salt in base64 (default: random, chosen by the node)")
	cmd.Flags().String("salt-base64", "", "alias of --salt")
	_ = cmd.Flags().MarkHidden("salt-base64")
	cmd.Flags().Bool("json", false, "print the whole program description")
	_ = cmd.MarkFlagRequired("file")
	_ = cmd.MarkFlagRequired("entrypoint")
	return cmd
}

func (e *env) runDeploy(cmd *cobra.Command, _ []string) error {
	c, err := e.client(cmd)
	if err != nil {
		return err
	}
	path, _ := cmd.Flags().GetString("file")
	entry, _ := cmd.Flags().GetString("entrypoint")
	refs, _ := cmd.Flags().GetStringSlice("blob-refs")
	asJSON, _ := cmd.Flags().GetBool("json")
	saltText, _ := cmd.Flags().GetString("salt")
	if s, _ := cmd.Flags().GetString("salt-base64"); s != "" {
		saltText = s
	}
	d := client.DeployRequest{Entrypoint: entry}
	if cmd.Flags().Changed("salt") || cmd.Flags().Changed("salt-base64") {
		if d.Salt, err = base64.StdEncoding.DecodeString(saltText); err != nil {
			return usageError{err: fmt.Errorf("--salt: not base64: %w", err)}
		}
	}
	for _, r := range refs {
		b, err := id.ParseBlob(r)
		if err != nil {
			return usageError{err: fmt.Errorf("--blob-refs: %w", err)}
		}
		d.BlobRefs = append(d.BlobRefs, b.String())
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	p, err := c.DeployStream(cmd.Context(), f, st.Size(), d)
	if err != nil {
		return fmt.Errorf("deploy %s: %w", path, nodeError(c, err))
	}
	if asJSON {
		return printJSON(cmd.OutOrStdout(), p)
	}
	if err := printJSON(cmd.OutOrStdout(), map[string]string{"id": p.ID}); err != nil {
		return err
	}
	state := "deployed"
	if !p.Created {
		state = "already deployed"
	}
	printf(cmd.ErrOrStderr(), "Program %s %s (%d bytes, entrypoint %s)\n", p.ID, state, p.Size, p.Entrypoint)
	return nil
}

func (e *env) programInfoCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "program-info",
		Short:   "Show a deployed program and its signed manifest",
		Long:    "program-info prints GET /programs/{id} as JSON: id, publisher, size, entrypoint, blob_refs\nand the signed manifest (with its canonical CBOR in base64).",
		Example: "  onvm program-info --rpc :8080 --id prog<64 hex>",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.client(cmd)
			if err != nil {
				return err
			}
			pid, _ := cmd.Flags().GetString("id")
			p, err := c.Program(cmd.Context(), pid)
			if err != nil {
				return fmt.Errorf("program-info: %w", nodeError(c, err))
			}
			return printJSON(cmd.OutOrStdout(), p)
		},
	}
	addRPCFlag(cmd)
	cmd.Flags().String("id", "", "program id: prog<64 hex> or 64 hex (required)")
	_ = cmd.MarkFlagRequired("id")
	return cmd
}

func (e *env) programCatalogCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "program-catalog",
		Short: "List the programs a node knows",
		Long: `program-catalog prints one page of GET /program-catalog as JSON:
{"programs":[…],"next_cursor":…}. Pass next_cursor as --cursor for the next page, or use
--all to print every program (one page per line).`,
		Example: "  onvm program-catalog --rpc :8080 --limit 50",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.client(cmd)
			if err != nil {
				return err
			}
			cursor, _ := cmd.Flags().GetString("cursor")
			limit, _ := cmd.Flags().GetInt("limit")
			all, _ := cmd.Flags().GetBool("all")
			for {
				page, err := c.Catalog(cmd.Context(), cursor, limit)
				if err != nil {
					return fmt.Errorf("program-catalog: %w", nodeError(c, err))
				}
				if err := printJSON(cmd.OutOrStdout(), page); err != nil {
					return err
				}
				if !all || page.NextCursor == nil {
					return nil
				}
				cursor = *page.NextCursor
			}
		},
	}
	addRPCFlag(cmd)
	cmd.Flags().String("cursor", "", "continue after this program id (a previous next_cursor)")
	cmd.Flags().Int("limit", 0, "programs per page (default the node's, 100; at most 1000)")
	cmd.Flags().Bool("all", false, "follow next_cursor to the end")
	return cmd
}

func (e *env) programCommitteeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "program-committee",
		Short: "Show the committee that finalizes a program's transitions",
		Long: `program-committee prints GET /programs/{id}/committee as JSON: program_id, epoch,
aggregate_public_key, members [{node, weight, bls_public_key}] and threshold. verify-receipt
checks receipts against it offline.`,
		Example: "  onvm program-committee --rpc :8080 --id prog<hex> > committee.json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.client(cmd)
			if err != nil {
				return err
			}
			pid, _ := cmd.Flags().GetString("id")
			cm, err := c.Committee(cmd.Context(), pid)
			if err != nil {
				return fmt.Errorf("program-committee: %w", nodeError(c, err))
			}
			return printJSON(cmd.OutOrStdout(), cm)
		},
	}
	addRPCFlag(cmd)
	cmd.Flags().String("id", "", "program id (required)")
	_ = cmd.MarkFlagRequired("id")
	return cmd
}
