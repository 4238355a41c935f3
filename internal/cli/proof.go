package cli

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/state"
)

// errInvalid is returned (exit 1) after a verifier printed "invalid".
var errInvalid = errors.New("verification failed")

func (e *env) stateGetCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "state-get",
		Short: "Read a key of a program's state with its Merkle proof",
		Long: `state-get prints GET /programs/{id}/state-root?key=… as JSON: the state root, the key's
value in hex (null when absent), whether it is present, and the 256 sibling hashes of its
membership or non-membership proof. Save it and check it offline with verify-proof.
--height or --root read an earlier committed state.`,
		Example: "  onvm state-get --rpc :8080 --id prog<hex> --key alpha > proof.json\n" +
			"  onvm verify-proof --root <root> --key alpha --proof proof.json",
		Args: cobra.NoArgs,
		RunE: e.runStateGet,
	}
	addRPCFlag(cmd)
	cmd.Flags().String("id", "", "program id (required)")
	cmd.Flags().String("key", "", "the key, as text")
	cmd.Flags().String("key-hex", "", "the key, in hex (instead of --key)")
	cmd.Flags().Uint64("height", 0, "read the state after this height")
	cmd.Flags().String("root", "", "read the state under this committed root (64 hex)")
	_ = cmd.MarkFlagRequired("id")
	cmd.MarkFlagsMutuallyExclusive("key", "key-hex")
	cmd.MarkFlagsMutuallyExclusive("height", "root")
	return cmd
}

// keyFlag returns --key or --key-hex, and whether either was given.
func keyFlag(cmd *cobra.Command) ([]byte, bool, error) {
	if cmd.Flags().Changed("key-hex") {
		s, _ := cmd.Flags().GetString("key-hex")
		k, err := hex.DecodeString(s)
		if err != nil {
			return nil, false, usageError{err: fmt.Errorf("--key-hex: %w", err)}
		}
		return k, true, nil
	}
	s, _ := cmd.Flags().GetString("key")
	return []byte(s), cmd.Flags().Changed("key"), nil
}

func (e *env) runStateGet(cmd *cobra.Command, _ []string) error {
	c, err := e.client(cmd)
	if err != nil {
		return err
	}
	pid, _ := cmd.Flags().GetString("id")
	key, ok, err := keyFlag(cmd)
	if err != nil {
		return err
	}
	if !ok {
		key = nil
	}
	var at client.StateQuery
	if cmd.Flags().Changed("height") {
		h, _ := cmd.Flags().GetUint64("height")
		at.Height = &h
	}
	at.Root, _ = cmd.Flags().GetString("root")
	sr, err := c.StateRoot(cmd.Context(), pid, key, at)
	if err != nil {
		return fmt.Errorf("state-get: %w", nodeError(c, err))
	}
	return printJSON(cmd.OutOrStdout(), sr)
}

func (e *env) verifyProofCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify-proof",
		Short: "Check a state proof offline",
		Long: `verify-proof checks, without any node, that a key holds a value (or is absent) under a
state root. --proof is a file (or - for stdin) holding the JSON that state-get and
GET /programs/{id}/state-root return, or a bare JSON array of the 256 sibling hashes.
The claim is taken from the flags; what a flag leaves out (root, key, value) is taken
from that JSON. Prints "valid" or "invalid: …" and exits 1 when invalid.`,
		Example: "  onvm verify-proof --root <64 hex> --key alpha --value-hex 48656c6c6f --proof proof.json\n" +
			"  onvm verify-proof --root <64 hex> --key missing --absent --proof -",
		Args: cobra.NoArgs,
		RunE: e.runVerifyProof,
	}
	cmd.Flags().String("root", "", "the state root (64 hex)")
	cmd.Flags().String("key", "", "the key, as text")
	cmd.Flags().String("key-hex", "", "the key, in hex (instead of --key)")
	cmd.Flags().String("value-hex", "", "the value the key holds, in hex")
	cmd.Flags().Bool("absent", false, "claim the key is absent")
	cmd.Flags().String("proof", "", "proof JSON file, - for stdin (required)")
	_ = cmd.MarkFlagRequired("proof")
	cmd.MarkFlagsMutuallyExclusive("key", "key-hex")
	cmd.MarkFlagsMutuallyExclusive("value-hex", "absent")
	return cmd
}

// proofFile is what verify-proof reads: the API's state-root JSON.
type proofFile struct {
	Root     *id.Hash  `json:"root"`
	Proof    []id.Hash `json:"proof"`
	ValueHex *string   `json:"value_hex"`
	Present  *bool     `json:"present"`
	KeyHex   *string   `json:"key_hex"`
}

func (e *env) runVerifyProof(cmd *cobra.Command, _ []string) error {
	path, _ := cmd.Flags().GetString("proof")
	raw, err := e.readInput(path, 1<<20)
	if err != nil {
		return fmt.Errorf("verify-proof: --proof: %w", err)
	}
	var pf proofFile
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		err = json.Unmarshal(t, &pf.Proof)
	} else {
		err = json.Unmarshal(raw, &pf)
	}
	if err != nil {
		return fmt.Errorf("verify-proof: %s is not a proof: %w", path, err)
	}

	root, err := claimRoot(cmd, pf)
	if err != nil {
		return err
	}
	key, ok, err := keyFlag(cmd)
	if err != nil {
		return err
	}
	if !ok {
		if pf.KeyHex == nil {
			return usageError{err: errors.New("give --key or --key-hex (the proof file names no key)")}
		}
		if key, err = hex.DecodeString(*pf.KeyHex); err != nil {
			return fmt.Errorf("verify-proof: key_hex: %w", err)
		}
	}
	value, present, err := claimValue(cmd, pf)
	if err != nil {
		return err
	}
	if err := state.Verify(root, key, value, present, pf.Proof); err != nil {
		printf(cmd.OutOrStdout(), "invalid: %v\n", err)
		return errInvalid
	}
	if present {
		printf(cmd.OutOrStdout(), "valid: key %x holds %d bytes under root %s\n", key, len(value), root)
	} else {
		printf(cmd.OutOrStdout(), "valid: key %x is absent under root %s\n", key, root)
	}
	return nil
}

func claimRoot(cmd *cobra.Command, pf proofFile) (id.Hash, error) {
	if cmd.Flags().Changed("root") {
		s, _ := cmd.Flags().GetString("root")
		root, err := id.ParseHash(s)
		if err != nil {
			return id.Hash{}, usageError{err: fmt.Errorf("--root: %w", err)}
		}
		return root, nil
	}
	if pf.Root == nil {
		return id.Hash{}, usageError{err: errors.New("give --root (the proof file names no root)")}
	}
	return *pf.Root, nil
}

func claimValue(cmd *cobra.Command, pf proofFile) ([]byte, bool, error) {
	switch {
	case cmd.Flags().Changed("absent"):
		absent, _ := cmd.Flags().GetBool("absent")
		return nil, !absent, nil
	case cmd.Flags().Changed("value-hex"):
		s, _ := cmd.Flags().GetString("value-hex")
		v, err := hex.DecodeString(s)
		if err != nil {
			return nil, false, usageError{err: fmt.Errorf("--value-hex: %w", err)}
		}
		return v, true, nil
	case pf.ValueHex != nil:
		v, err := hex.DecodeString(*pf.ValueHex)
		if err != nil {
			return nil, false, fmt.Errorf("verify-proof: value_hex: %w", err)
		}
		return v, true, nil
	case pf.Present != nil && !*pf.Present:
		return nil, false, nil
	}
	return nil, false, usageError{err: errors.New("give --value-hex or --absent (the proof file says neither)")}
}
