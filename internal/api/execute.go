package api

import (
	"net/http"
	"time"

	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/wasm"
)

// ExecuteRequest is the body of POST /execute: the original's fields, and
// optionally a request id (idempotency), a fuel limit and a timeout.
type ExecuteRequest struct {
	ProgramID   string `json:"program_id"`
	InputBase64 string `json:"input_base64"`
	RequestID   string `json:"request_id,omitempty"`
	FuelLimit   uint64 `json:"fuel_limit,omitempty"`
	TimeoutMS   int64  `json:"timeout_ms,omitempty"`
}

// ExecuteResult is the response to POST /execute. ReturnBase64 and Fuel are
// the original's fields; the rest identify the committed transition.
type ExecuteResult struct {
	ReturnBase64 string     `json:"return_base64"`
	Fuel         uint64     `json:"fuel"`
	ReceiptID    id.Hash    `json:"receipt_id"`
	Height       uint64     `json:"height"`
	StateRoot    id.Hash    `json:"state_root"`
	RequestID    id.Hash    `json:"request_id"`
	Replayed     bool       `json:"replayed"`
	Logs         []wasm.Log `json:"logs"`
}

// compileMargin is added to an execution's write deadline for compiling
// its module, and is the write deadline of a deploy (validation and
// instrumentation of up to 32 MiB).
const compileMargin = 5 * time.Minute

// execute runs one execution as a state transition. Guest failures are 422
// (504 for the wall-clock timeout) with the fuel used and the guest's logs
// in the error body; nothing is committed then.
func (s *Server) execute(w http.ResponseWriter, r *http.Request) {
	limits := s.opts.Programs.Limits()
	// base64 of the largest input, plus room for the other fields.
	maxBody := int64(limits.MaxInput)/3*4 + 8<<10
	var body ExecuteRequest
	if err := decodeJSONBody(w, r, maxBody, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := id.ParseProgram(body.ProgramID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	input, err := decodeBase64(body.InputBase64)
	if err != nil {
		s.writeError(w, r, badRequest("invalid_base64", "input_base64 is not base64", err))
		return
	}
	if body.TimeoutMS < 0 {
		s.writeError(w, r, badRequest("invalid_request", "timeout_ms must not be negative", nil))
		return
	}
	// The call may run longer than rpc.write_timeout: give the answer its
	// own deadline, the execution's timeout plus a margin for compiling the
	// module on its first call since start (seconds; minutes under -race).
	timeout := limits.DefaultTimeout
	if body.TimeoutMS > 0 {
		timeout = min(time.Duration(body.TimeoutMS)*time.Millisecond, limits.MaxTimeout)
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(timeout + compileMargin))
	out, err := s.opts.Programs.Execute(r.Context(), chain.Request{
		Program:   p,
		Input:     input,
		RequestID: body.RequestID,
		Fuel:      body.FuelLimit,
		Timeout:   time.Duration(body.TimeoutMS) * time.Millisecond,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rc := &out.Receipt.Receipt
	logs := out.Logs
	if logs == nil {
		logs = []wasm.Log{}
	}
	writeJSON(w, http.StatusOK, ExecuteResult{
		ReturnBase64: b64(out.Output),
		Fuel:         out.FuelUsed,
		ReceiptID:    rc.ID(),
		Height:       rc.Height,
		StateRoot:    rc.StateRootOut,
		RequestID:    rc.RequestID,
		Replayed:     out.Replayed,
		Logs:         logs,
	})
}
