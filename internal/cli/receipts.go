package cli

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/onvm-network/onvm/client"
)

func (e *env) programReceiptsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "program-receipts",
		Short: "List a program's finalized receipts",
		Long: `program-receipts prints one page of GET /programs/{id}/receipts as JSON, in height order:
{"receipts":[{program_id, height, state_root_in, state_root_out, write_digest, gas_used,
signer_bitmap, committee_epoch, receipt_id, request_id, fuel, timestamp}],"next_cursor":…}.
Pass next_cursor as --cursor for the next page, or use --all.`,
		Example: "  onvm program-receipts --rpc :8080 --id prog<hex>",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.client(cmd)
			if err != nil {
				return err
			}
			pid, _ := cmd.Flags().GetString("id")
			cursor, _ := cmd.Flags().GetString("cursor")
			limit, _ := cmd.Flags().GetInt("limit")
			all, _ := cmd.Flags().GetBool("all")
			for {
				page, err := c.Receipts(cmd.Context(), pid, cursor, limit)
				if err != nil {
					return fmt.Errorf("program-receipts: %w", nodeError(c, err))
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
	cmd.Flags().String("id", "", "program id (required)")
	cmd.Flags().String("cursor", "", "start at this height (a previous next_cursor)")
	cmd.Flags().Int("limit", 0, "receipts per page (default the node's, 100; at most 1000)")
	cmd.Flags().Bool("all", false, "follow next_cursor to the end")
	_ = cmd.MarkFlagRequired("id")
	return cmd
}

func (e *env) receiptCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "receipt",
		Short:   "Show one finalized receipt in full",
		Long:    "receipt prints GET /receipts/{id} as JSON, including the certified receipt's canonical CBOR\n(cbor_base64); save it and check it offline with verify-receipt.",
		Example: "  onvm receipt --rpc :8080 --id <64 hex> > receipt.json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.client(cmd)
			if err != nil {
				return err
			}
			rid, _ := cmd.Flags().GetString("id")
			r, err := c.Receipt(cmd.Context(), rid)
			if err != nil {
				return fmt.Errorf("receipt: %w", nodeError(c, err))
			}
			return printJSON(cmd.OutOrStdout(), r)
		},
	}
	addRPCFlag(cmd)
	cmd.Flags().String("id", "", "receipt id, 64 hex (required)")
	_ = cmd.MarkFlagRequired("id")
	return cmd
}

func (e *env) verifyReceiptCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify-receipt",
		Short: "Check a finalized receipt against its committee's public keys, offline",
		Long: `verify-receipt checks that a receipt (the JSON of GET /receipts/{id}, from a file or - for
stdin) carries an aggregate BLS signature of committee members holding at least the
threshold weight, over exactly the receipt fields shown. The committee is the JSON of
GET /programs/{id}/committee (--committee), or is fetched from a node with --rpc. No
re-execution. Prints "valid: …" or "invalid: …" and exits 1 when invalid.`,
		Example: "  onvm verify-receipt --receipt receipt.json --committee committee.json\n" +
			"  onvm receipt --id <hex> | onvm verify-receipt --receipt - --rpc :8080",
		Args: cobra.NoArgs,
		RunE: e.runVerifyReceipt,
	}
	addRPCFlag(cmd)
	cmd.Flags().String("receipt", "", "receipt JSON file, - for stdin (required)")
	cmd.Flags().String("committee", "", "committee JSON file, - for stdin (default: fetch it with --rpc)")
	_ = cmd.MarkFlagRequired("receipt")
	return cmd
}

func (e *env) runVerifyReceipt(cmd *cobra.Command, _ []string) error {
	rpath, _ := cmd.Flags().GetString("receipt")
	cpath, _ := cmd.Flags().GetString("committee")
	if rpath == "-" && cpath == "-" {
		return usageError{err: errors.New("--receipt and --committee cannot both be stdin")}
	}
	raw, err := e.readInput(rpath, 4<<20)
	if err != nil {
		return fmt.Errorf("verify-receipt: --receipt: %w", err)
	}
	var rj client.Receipt
	if err := json.Unmarshal(raw, &rj); err != nil {
		return fmt.Errorf("verify-receipt: %s is not a receipt: %w", rpath, err)
	}
	if err := client.CheckReceipt(&rj); err != nil {
		printf(cmd.OutOrStdout(), "invalid: %v\n", err)
		return errInvalid
	}

	var cj client.Committee
	if cpath != "" {
		craw, err := e.readInput(cpath, 4<<20)
		if err != nil {
			return fmt.Errorf("verify-receipt: --committee: %w", err)
		}
		if err := json.Unmarshal(craw, &cj); err != nil {
			return fmt.Errorf("verify-receipt: %s is not a committee: %w", cpath, err)
		}
	} else {
		c, err := e.client(cmd)
		if err != nil {
			return err
		}
		got, err := c.Committee(cmd.Context(), rj.ProgramID)
		if err != nil {
			return fmt.Errorf("verify-receipt: fetch committee: %w", nodeError(c, err))
		}
		cj = *got
	}
	v, err := client.VerifyReceipt(&rj, &cj)
	if err != nil {
		printf(cmd.OutOrStdout(), "invalid: %v\n", err)
		return errInvalid
	}
	printf(cmd.OutOrStdout(), "valid: receipt %s of %s at height %d, signed by %d of %d members (weight %d, threshold %d)\n",
		v.ReceiptID, v.ProgramID, v.Height, v.Signers, v.Members, v.Weight, v.Threshold)
	return nil
}
