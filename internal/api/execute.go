package api

import (
	"net/http"
	"time"

	"github.com/onvm-network/onvm/client/wire"
	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/id"
)

// compileMargin is added to an execution's write deadline for sealing and
// committing its transition (an execution's own wait for compilation is
// within its timeout), and is the write deadline of a deploy (validation,
// instrumentation and compilation of up to 32 MiB).
const compileMargin = 5 * time.Minute

// execute runs one execution as a state transition. Guest failures are 422
// (504 for the wall-clock timeout) with the fuel used and the guest's logs
// in the error body; nothing is committed then.
func (s *Server) execute(w http.ResponseWriter, r *http.Request) {
	release, err := s.acquire(s.execs, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer release()
	limits := s.opts.Programs.Limits()
	// base64 of the largest input, plus room for the other fields.
	maxBody := int64(limits.MaxInput)/3*4 + 8<<10
	var body wire.ExecuteRequest
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
		s.writeError(w, r, badRequest(wire.CodeInvalidRequest, "timeout_ms must not be negative", nil))
		return
	}
	// The call may run longer than rpc.write_timeout: give the answer its
	// own deadline, the execution's timeout plus a margin.
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
	logs := guestLogs(out.Logs)
	if logs == nil {
		logs = []wire.Log{}
	}
	writeJSON(w, http.StatusOK, wire.ExecuteResult{
		ReturnBase64: b64(out.Output),
		Fuel:         out.FuelUsed,
		ReceiptID:    rc.ID().String(),
		Height:       rc.Height,
		StateRoot:    rc.StateRootOut.String(),
		RequestID:    rc.RequestID.String(),
		Replayed:     out.Replayed,
		Logs:         logs,
	})
}
