package cli

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/onvm-network/onvm/client"
)

// maxInputFile bounds what execute reads for --input; the node enforces
// its own limit (1 MiB by default) and answers 413 above it.
const maxInputFile = 64 << 20

func (e *env) executeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "execute",
		Short: "Execute a deployed program",
		Long: `execute sends --input (a file, or - for stdin; empty when absent) to the program
(POST /execute) and prints its output as UTF-8 text, invalid bytes replaced by U+FFFD as
the original did. Every successful execution is a state transition with a signed receipt.
With --json it prints {"return","fuel"} (the original's fields) plus the receipt id,
height, state root, request id and logs. --request-id makes the execution idempotent:
the same id again returns the first result instead of executing twice. A failed
execution (trap, out_of_fuel, timeout, …) prints the error, the fuel used and the
guest's logs on stderr and exits 1; nothing is committed.`,
		Example: "  echo -n 'hello world' | onvm execute --rpc :8080 --program-id prog<hex> --input -\n" +
			"  onvm execute --program-id prog<hex> --input kv_put.json --json --request-id put-1",
		Args: cobra.NoArgs,
		RunE: e.runExecute,
	}
	addRPCFlag(cmd)
	cmd.Flags().String("program-id", "", "program id: prog<64 hex> or 64 hex (required)")
	cmd.Flags().String("input", "", "input file, - for stdin (default: empty input)")
	cmd.Flags().Bool("json", false, "print the result as JSON")
	cmd.Flags().String("request-id", "", "idempotency key: a repeated id returns the first result")
	cmd.Flags().Uint64("fuel-limit", 0, "fuel budget (default: the node's, 50,000,000)")
	cmd.Flags().Duration("timeout", 0, "wall-clock limit, e.g. 5s (default: the node's, 30s)")
	_ = cmd.MarkFlagRequired("program-id")
	return cmd
}

// executeJSON is what execute --json prints.
type executeJSON struct {
	Return       string       `json:"return"`
	Fuel         uint64       `json:"fuel"`
	ReturnBase64 string       `json:"return_base64"`
	ReceiptID    string       `json:"receipt_id"`
	Height       uint64       `json:"height"`
	StateRoot    string       `json:"state_root"`
	RequestID    string       `json:"request_id"`
	Replayed     bool         `json:"replayed"`
	Logs         []client.Log `json:"logs"`
}

func (e *env) runExecute(cmd *cobra.Command, _ []string) error {
	c, err := e.client(cmd)
	if err != nil {
		return err
	}
	pid, _ := cmd.Flags().GetString("program-id")
	inPath, _ := cmd.Flags().GetString("input")
	asJSON, _ := cmd.Flags().GetBool("json")
	reqID, _ := cmd.Flags().GetString("request-id")
	fuel, _ := cmd.Flags().GetUint64("fuel-limit")
	timeout, _ := cmd.Flags().GetDuration("timeout")
	var input []byte
	if inPath != "" {
		if input, err = e.readInput(inPath, maxInputFile); err != nil {
			return fmt.Errorf("execute: --input: %w", err)
		}
	}
	res, err := c.Execute(cmd.Context(), client.ExecuteRequest{
		ProgramID: pid, Input: input, RequestID: reqID, FuelLimit: fuel, TimeoutMS: timeout.Milliseconds(),
	})
	if err != nil {
		var xe *client.ExecError
		if errors.As(err, &xe) {
			if xe.FuelUsed != nil {
				printf(cmd.ErrOrStderr(), "fuel used: %d\n", *xe.FuelUsed)
			}
			for _, l := range xe.Logs {
				printf(cmd.ErrOrStderr(), "log [%s] %s\n", l.Source, l.Message)
			}
		}
		return fmt.Errorf("execute: %w", nodeError(c, err))
	}
	out, err := res.Output()
	if err != nil {
		return fmt.Errorf("execute: the node returned invalid base64: %w", err)
	}
	if !asJSON {
		printf(cmd.OutOrStdout(), "%s\n", lossyUTF8(out))
		return nil
	}
	return printJSON(cmd.OutOrStdout(), executeJSON{
		Return: lossyUTF8(out), Fuel: res.Fuel, ReturnBase64: res.ReturnBase64, ReceiptID: res.ReceiptID,
		Height: res.Height, StateRoot: res.StateRoot, RequestID: res.RequestID, Replayed: res.Replayed, Logs: res.Logs,
	})
}

// lossyUTF8 is Rust's String::from_utf8_lossy: each maximal prefix of an
// ill-formed sequence (Unicode §3.9, "substitution of maximal subparts")
// becomes one U+FFFD. Go's strings.ToValidUTF8 instead merges whole runs of
// invalid bytes into one replacement.
func lossyUTF8(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r != utf8.RuneError || n > 1 {
			sb.Write(b[:n])
			b = b[n:]
			continue
		}
		sb.WriteRune(utf8.RuneError)
		b = b[maximalSubpart(b):]
	}
	return sb.String()
}

// maximalSubpart returns the length (≥ 1) of the longest prefix of b that
// starts a well-formed sequence but does not complete one.
func maximalSubpart(b []byte) int {
	lead := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF) // range of the first continuation byte
	switch {
	case lead >= 0xC2 && lead <= 0xDF:
		need = 1
	case lead == 0xE0:
		need, lo = 2, 0xA0
	case lead >= 0xE1 && lead <= 0xEC, lead == 0xEE, lead == 0xEF:
		need = 2
	case lead == 0xED:
		need, hi = 2, 0x9F
	case lead == 0xF0:
		need, lo = 3, 0x90
	case lead >= 0xF1 && lead <= 0xF3:
		need = 3
	case lead == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	i := 1
	for ; i <= need && i < len(b); i++ {
		if c := b[i]; c < lo || c > hi {
			break
		}
		lo, hi = 0x80, 0xBF
	}
	return i
}
