package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/onvm-network/onvm/internal/auth"
	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/job"
	"github.com/onvm-network/onvm/internal/p2p"
	"github.com/onvm-network/onvm/internal/program"
	"github.com/onvm-network/onvm/internal/replica"
	"github.com/onvm-network/onvm/internal/state"
	"github.com/onvm-network/onvm/internal/wasm"
)

// Error is the body of every error response:
// {"error":{"code":"…","message":"…"}}.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// FuelUsed and Logs describe a failed execution (codes trap,
	// out_of_fuel, timeout, …): the fuel it consumed and what it logged.
	FuelUsed *uint64    `json:"fuel_used,omitempty"`
	Logs     []wasm.Log `json:"logs,omitempty"`
}

type errorBody struct {
	Error Error `json:"error"`
}

// requestError is an error the API itself detects in a request; its message
// is shown to the client.
type requestError struct {
	status int
	code   string
	msg    string
	err    error
}

func (e *requestError) Error() string {
	if e.err != nil {
		return e.msg + ": " + e.err.Error()
	}
	return e.msg
}

func (e *requestError) Unwrap() error { return e.err }

var (
	errNoRoute          = &requestError{status: http.StatusNotFound, code: "not_found", msg: "no such route"}
	errMethodNotAllowed = &requestError{status: http.StatusMethodNotAllowed, code: "method_not_allowed", msg: "method not allowed on this route"}
)

// statusError is a bare HTTP status decided by net/http (412, 416).
func statusError(code int) error {
	name := "http_" + strconv.Itoa(code)
	switch code {
	case http.StatusRequestedRangeNotSatisfiable:
		name = "range_not_satisfiable"
	case http.StatusPreconditionFailed:
		name = "precondition_failed"
	}
	return &requestError{status: code, code: name, msg: strings.ToLower(http.StatusText(code))}
}

func badRequest(code, msg string, err error) error {
	return &requestError{status: http.StatusBadRequest, code: code, msg: msg, err: err}
}

// errUploadAborted wraps a failure to read the request body: the client went
// away or stalled. Nothing was stored.
func errUploadAborted(err error) error {
	return &requestError{status: http.StatusBadRequest, code: "upload_aborted", msg: "request body could not be read", err: err}
}

// status maps err to an HTTP status, a stable code and the message the client
// sees. Unknown errors are 500 with a generic message; their detail goes to
// the log only.
func status(err error) (int, string, string) {
	var re *requestError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe), errors.Is(err, blob.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, "too_large", "blob is larger than the node accepts (rpc.max_blob_size)"
	case errors.Is(err, auth.ErrRateLimited), errors.Is(err, auth.ErrNonceCacheFull):
		return http.StatusTooManyRequests, "rate_limited", err.Error()
	case errors.Is(err, auth.ErrBodyTooLarge):
		return http.StatusRequestEntityTooLarge, "too_large", err.Error()
	case errors.Is(err, auth.ErrMethodDenied):
		return http.StatusMethodNotAllowed, "method_not_allowed", err.Error()
	case errors.Is(err, auth.ErrProjectExists):
		return http.StatusConflict, "project_exists", "a project with this id exists; revoke it first to replace its secret"
	case errors.Is(err, auth.ErrProjectNotFound):
		return http.StatusNotFound, "not_found", "project not found"
	case errors.Is(err, auth.ErrInvalidProject):
		return http.StatusBadRequest, "invalid_project", err.Error()
	case authCode(err) != "":
		return http.StatusUnauthorized, authCode(err), err.Error()
	case errors.As(err, &re):
		if re.code == "upload_aborted" {
			return re.status, re.code, re.msg
		}
		return re.status, re.code, re.Error()
	case errors.Is(err, id.ErrSyntax):
		return http.StatusBadRequest, "invalid_id", err.Error()
	case errors.Is(err, blob.ErrNotFound):
		return http.StatusNotFound, "not_found", "blob not found"
	case errors.Is(err, blob.ErrIncomplete):
		return http.StatusNotFound, "incomplete", "blob is known but its bytes are not all stored on this node"
	case errors.Is(err, blob.ErrNoSpace):
		return http.StatusInsufficientStorage, "insufficient_storage", "not enough disk space to store the blob"
	case errors.Is(err, blob.ErrCorrupt):
		return http.StatusInternalServerError, "corrupt", "stored blob data failed verification"
	case errors.Is(err, blob.ErrBusy):
		return http.StatusConflict, "busy", "the blob is being written by another request; retry"
	case errors.Is(err, blob.ErrClosed):
		return http.StatusServiceUnavailable, "unavailable", "node is shutting down"
	case errors.Is(err, job.ErrNotFound):
		return http.StatusNotFound, "not_found", "job not found"
	case errors.Is(err, job.ErrInvalid):
		return http.StatusBadRequest, "invalid_request", err.Error()
	case errors.Is(err, job.ErrConflict):
		return http.StatusConflict, "request_conflict", err.Error()
	case errors.Is(err, job.ErrTerminal):
		return http.StatusConflict, "job_terminal", err.Error()
	case errors.Is(err, job.ErrNotCompleted):
		return http.StatusConflict, "job_not_completed", "job output not available: " + err.Error()
	case errors.Is(err, job.ErrQueueFull):
		return http.StatusServiceUnavailable, "queue_full", err.Error()
	case errors.Is(err, job.ErrInputTooLarge):
		return http.StatusRequestEntityTooLarge, "input_too_large", err.Error()
	case errors.Is(err, job.ErrClosed):
		return http.StatusServiceUnavailable, "unavailable", "node is shutting down"
	case wasm.KindOf(err) != 0:
		return wasmStatus(err)
	case errors.Is(err, chain.ErrNotFound), errors.Is(err, program.ErrNotFound):
		return http.StatusNotFound, "not_found", err.Error()
	case errors.Is(err, state.ErrUnknownRoot):
		return http.StatusNotFound, "unknown_root", "the program never committed this root, or it was pruned"
	case errors.Is(err, chain.ErrInvalidRequest):
		return http.StatusBadRequest, "invalid_request", err.Error()
	case errors.Is(err, chain.ErrInputTooLarge):
		return http.StatusRequestEntityTooLarge, "input_too_large", err.Error()
	case errors.Is(err, chain.ErrRequestConflict):
		return http.StatusConflict, "request_conflict", err.Error()
	case errors.Is(err, chain.ErrOutputUnavailable):
		return http.StatusConflict, "output_unavailable", err.Error()
	case errors.Is(err, p2p.ErrNotEnoughPeers):
		return http.StatusServiceUnavailable, "min_peers", err.Error()
	case errors.Is(err, replica.ErrFetchLimited):
		return http.StatusServiceUnavailable, "fetch_limited", err.Error()
	case errors.Is(err, replica.ErrFetchPending):
		return http.StatusServiceUnavailable, "fetching", err.Error()
	case errors.Is(err, replica.ErrProgramPending):
		return http.StatusServiceUnavailable, "program_pending", err.Error()
	case errors.Is(err, replica.ErrLeaderUnavailable):
		return http.StatusServiceUnavailable, "leader_unavailable", err.Error()
	case errors.Is(err, replica.ErrBadForward):
		return http.StatusBadGateway, "bad_forward", err.Error()
	case errors.Is(err, dag.ErrQueueFull):
		return http.StatusServiceUnavailable, "busy", err.Error()
	case errors.Is(err, chain.ErrNotInCommittee):
		return http.StatusServiceUnavailable, "committee_unavailable", err.Error()
	case errors.Is(err, chain.ErrEnvMismatch):
		return http.StatusUnprocessableEntity, "env_mismatch", err.Error()
	case errors.Is(err, chain.ErrClosed):
		return http.StatusServiceUnavailable, "unavailable", "node is shutting down"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "canceled", "request canceled"
	}
	return http.StatusInternalServerError, "internal", "internal error"
}

// authCode names the failed authentication check (401), or "" if err is
// not an authentication failure. Messages carry no secret material.
func authCode(err error) string {
	for _, c := range []struct {
		err  error
		code string
	}{
		{auth.ErrMissingHeader, "missing_auth_header"},
		{auth.ErrMalformedHeader, "malformed_auth_header"},
		{auth.ErrUnknownProject, "unknown_project"},
		{auth.ErrTimestamp, "bad_timestamp"},
		{auth.ErrReplay, "replayed_nonce"},
		{auth.ErrBadSignature, "bad_signature"},
		{auth.ErrBodyMismatch, "body_hash_mismatch"},
	} {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return ""
}

// writeError renders err as the JSON error body with its status and logs
// it: server errors at error level, client errors at debug.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, name, msg := status(err)
	if code >= 500 && code != http.StatusServiceUnavailable {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", code, "err", err)
	} else {
		s.log.Debug("request rejected", "method", r.Method, "path", r.URL.Path, "status", code, "err", err)
	}
	h := w.Header()
	for _, k := range []string{"Content-Length", "Content-Disposition", "ETag", "Cache-Control", "Content-Encoding"} {
		h.Del(k)
	}
	if code != http.StatusRequestedRangeNotSatisfiable {
		h.Del("Content-Range") // a 416 keeps "bytes */size"
	}
	body := errorBody{Error: Error{Code: name, Message: msg}}
	var we *wasm.Error
	if errors.As(err, &we) && we.Kind != wasm.KindInvalidModule && we.Kind != wasm.KindInvalidInput {
		body.Error.FuelUsed, body.Error.Logs = &we.FuelUsed, we.Logs
	}
	writeJSON(w, code, body)
}

// wasmStatus maps a runtime failure: a module rejected at deploy or a
// malformed call is 400 (a module over a module limit with the code
// module_limit_<limit>, e.g. module_limit_function_size); the guest's own
// failures (trap, out of fuel, out of memory, call depth, output or state
// writes too large) are 422 with the runtime's kind as the code; the
// node's wall-clock limit is 504; a cancelled call 503.
func wasmStatus(err error) (int, string, string) {
	kind := wasm.KindOf(err)
	msg := kind.String()
	var we *wasm.Error
	if errors.As(err, &we) && we.Message != "" {
		msg = we.Message
	}
	switch kind {
	case wasm.KindInvalidModule:
		if we != nil && we.Limit != "" {
			return http.StatusBadRequest, "module_limit_" + we.Limit, "invalid wasm module: " + msg
		}
		return http.StatusBadRequest, "invalid_module", "invalid wasm module: " + msg
	case wasm.KindInvalidInput:
		return http.StatusBadRequest, "invalid_input", msg
	case wasm.KindTimeout:
		return http.StatusGatewayTimeout, "timeout", msg
	case wasm.KindCancelled:
		return http.StatusServiceUnavailable, "cancelled", msg
	}
	return http.StatusUnprocessableEntity, kind.String(), msg
}

// writeJSON renders v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
