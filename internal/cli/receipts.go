package cli

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/internal/bls"
	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
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
		Long:    "receipt prints GET /receipts/{id} as JSON, including the aggregated receipt's canonical CBOR\n(cbor_base64); save it and check it offline with verify-receipt.",
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
	agg, err := receiptFromJSON(&rj)
	if err != nil {
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
		got, err := c.Committee(cmd.Context(), agg.Receipt.Program.String())
		if err != nil {
			return fmt.Errorf("verify-receipt: fetch committee: %w", nodeError(c, err))
		}
		cj = *got
	}
	committee, err := committeeFromJSON(&cj)
	if err == nil {
		err = agg.Verify(committee)
	}
	if err != nil {
		printf(cmd.OutOrStdout(), "invalid: %v\n", err)
		return errInvalid
	}
	signers, weight := 0, uint64(0)
	for i, m := range committee.Members {
		if agg.Signers[i/8]&(1<<(i%8)) != 0 {
			signers++
			weight += m.Weight
		}
	}
	r := &agg.Receipt
	printf(cmd.OutOrStdout(), "valid: receipt %s of %s at height %d, signed by %d of %d members (weight %d, threshold %d)\n",
		r.ID(), r.Program, r.Height, signers, len(committee.Members), weight, committee.Threshold)
	return nil
}

// receiptFromJSON rebuilds the aggregated receipt from its JSON fields and,
// when cbor_base64 is present, requires the canonical encoding to say
// exactly the same: a field edited in either form fails.
func receiptFromJSON(j *client.Receipt) (*consensus.AggregatedReceipt, error) {
	var a consensus.AggregatedReceipt
	r := &a.Receipt
	var err error
	hashes := []struct {
		name string
		s    string
		dst  *id.Hash
	}{
		{"state_root_in", j.StateRootIn, &r.StateRootIn}, {"state_root_out", j.StateRootOut, &r.StateRootOut},
		{"input_hash", j.InputHash, &r.InputHash}, {"request_id", j.RequestID, &r.RequestID},
		{"write_digest", j.WriteDigest, &r.WriteDigest}, {"output_hash", j.OutputHash, &r.OutputHash},
		{"code_hash", j.CodeHash, &r.CodeHash}, {"wasm_env_hash", j.WasmEnvHash, &r.EnvHash},
	}
	for _, h := range hashes {
		if *h.dst, err = id.ParseHash(h.s); err != nil {
			return nil, fmt.Errorf("%s: %w", h.name, err)
		}
	}
	if r.Program, err = id.ParseProgram(j.ProgramID); err != nil {
		return nil, fmt.Errorf("program_id: %w", err)
	}
	if err := r.Executor.UnmarshalText([]byte(j.Executor)); err != nil {
		return nil, fmt.Errorf("executor: %w", err)
	}
	if j.GasUsed != j.Fuel {
		return nil, fmt.Errorf("gas_used %d and fuel %d differ", j.GasUsed, j.Fuel)
	}
	r.Height, r.FuelUsed, r.Timestamp, r.Epoch = j.Height, j.Fuel, j.TimestampMS, j.Epoch
	if a.Signers, err = hex.DecodeString(j.SignerBitmap); err != nil {
		return nil, fmt.Errorf("signer_bitmap: %w", err)
	}
	if err := a.Signature.UnmarshalText([]byte(j.AggregateSignature)); err != nil {
		return nil, fmt.Errorf("aggregate_signature: %w", err)
	}
	if j.ReceiptID != "" && j.ReceiptID != r.ID().String() {
		return nil, fmt.Errorf("receipt_id %s is not the id of the receipt's fields (%s)", j.ReceiptID, r.ID())
	}
	if j.CBORBase64 != "" {
		raw, err := base64.StdEncoding.DecodeString(j.CBORBase64)
		if err != nil {
			return nil, fmt.Errorf("cbor_base64: %w", err)
		}
		enc, err := consensus.DecodeAggregatedReceipt(raw)
		if err != nil {
			return nil, fmt.Errorf("cbor_base64: %w", err)
		}
		if string(enc.Encode()) != string(a.Encode()) {
			return nil, errors.New("the JSON fields and cbor_base64 disagree")
		}
	}
	return &a, nil
}

// committeeFromJSON converts the committee JSON and, when it carries
// aggregate_public_key, checks it is the aggregate of the member keys.
func committeeFromJSON(j *client.Committee) (*consensus.Committee, error) {
	c := &consensus.Committee{Epoch: j.Epoch, Threshold: j.Threshold}
	var err error
	if c.Program, err = id.ParseProgram(j.ProgramID); err != nil {
		return nil, fmt.Errorf("committee program_id: %w", err)
	}
	for i, m := range j.Members {
		var mm consensus.Member
		if err := mm.Node.UnmarshalText([]byte(m.Node)); err != nil {
			return nil, fmt.Errorf("committee member %d node: %w", i, err)
		}
		var pk bls.PublicKey
		if err := pk.UnmarshalText([]byte(m.BLSPublicKey)); err != nil {
			return nil, fmt.Errorf("committee member %d bls_public_key: %w", i, err)
		}
		mm.Weight, mm.BLSKey = m.Weight, pk
		c.Members = append(c.Members, mm)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if j.AggregatePublicKey != "" {
		agg, err := chain.AggregatePublicKey(c)
		if err != nil {
			return nil, err
		}
		if agg.String() != j.AggregatePublicKey {
			return nil, errors.New("committee aggregate_public_key is not the aggregate of its member keys")
		}
	}
	return c, nil
}
