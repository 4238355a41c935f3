package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/onvm-network/onvm/client/wire"
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
	errNoRoute          = &requestError{status: http.StatusNotFound, code: wire.CodeNotFound, msg: "no such route"}
	errMethodNotAllowed = &requestError{status: http.StatusMethodNotAllowed, code: wire.CodeMethodNotAllowed, msg: "method not allowed on this route"}
)

// statusError is a bare HTTP status decided by net/http (412, 416).
func statusError(code int) error {
	name := "http_" + strconv.Itoa(code)
	switch code {
	case http.StatusRequestedRangeNotSatisfiable:
		name = wire.CodeRangeNotSatisfiable
	case http.StatusPreconditionFailed:
		name = wire.CodePreconditionFailed
	}
	return &requestError{status: code, code: name, msg: strings.ToLower(http.StatusText(code))}
}

func badRequest(code, msg string, err error) error {
	return &requestError{status: http.StatusBadRequest, code: code, msg: msg, err: err}
}

// errUploadAborted wraps a failure to read the request body: the client went
// away or stalled. Nothing was stored.
func errUploadAborted(err error) error {
	return &requestError{status: http.StatusBadRequest, code: wire.CodeUploadAborted, msg: "request body could not be read", err: err}
}

// status maps err to an HTTP status, a stable code and the message the client
// sees. Unknown errors are 500 with a generic message; their detail goes to
// the log only.
func status(err error) (int, string, string) {
	var re *requestError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe), errors.Is(err, blob.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, wire.CodeTooLarge, "blob is larger than the node accepts (rpc.max_blob_size)"
	case errors.Is(err, auth.ErrRateLimited), errors.Is(err, auth.ErrNonceCacheFull):
		return http.StatusTooManyRequests, wire.CodeRateLimited, err.Error()
	case errors.Is(err, auth.ErrBodyTooLarge):
		return http.StatusRequestEntityTooLarge, wire.CodeTooLarge, err.Error()
	case errors.Is(err, auth.ErrMethodDenied):
		return http.StatusMethodNotAllowed, wire.CodeMethodNotAllowed, err.Error()
	case errors.Is(err, auth.ErrProjectExists):
		return http.StatusConflict, wire.CodeProjectExists, "a project with this id exists; revoke it first to replace its secret"
	case errors.Is(err, auth.ErrProjectNotFound):
		return http.StatusNotFound, wire.CodeNotFound, "project not found"
	case errors.Is(err, auth.ErrInvalidProject):
		return http.StatusBadRequest, wire.CodeInvalidProject, err.Error()
	case authCode(err) != "":
		return http.StatusUnauthorized, authCode(err), err.Error()
	case errors.As(err, &re):
		if re.code == wire.CodeUploadAborted {
			return re.status, re.code, re.msg
		}
		return re.status, re.code, re.Error()
	case errors.Is(err, id.ErrSyntax):
		return http.StatusBadRequest, wire.CodeInvalidID, err.Error()
	case errors.Is(err, blob.ErrNotFound):
		return http.StatusNotFound, wire.CodeNotFound, "blob not found"
	case errors.Is(err, blob.ErrIncomplete):
		return http.StatusNotFound, wire.CodeIncomplete, "blob is known but its bytes are not all stored on this node"
	case errors.Is(err, blob.ErrNoSpace):
		return http.StatusInsufficientStorage, wire.CodeInsufficientStorage, "not enough disk space to store the blob"
	case errors.Is(err, blob.ErrCorrupt):
		return http.StatusInternalServerError, wire.CodeCorrupt, "stored blob data failed verification"
	case errors.Is(err, blob.ErrBusy):
		return http.StatusConflict, wire.CodeBusy, "the blob is being written by another request; retry"
	case errors.Is(err, blob.ErrClosed):
		return http.StatusServiceUnavailable, wire.CodeUnavailable, "node is shutting down"
	case errors.Is(err, job.ErrNotFound):
		return http.StatusNotFound, wire.CodeNotFound, "job not found"
	case errors.Is(err, job.ErrInvalid):
		return http.StatusBadRequest, wire.CodeInvalidRequest, err.Error()
	case errors.Is(err, job.ErrConflict):
		return http.StatusConflict, wire.CodeRequestConflict, err.Error()
	case errors.Is(err, job.ErrTerminal):
		return http.StatusConflict, wire.CodeJobTerminal, err.Error()
	case errors.Is(err, job.ErrNotCompleted):
		return http.StatusConflict, wire.CodeJobNotCompleted, "job output not available: " + err.Error()
	case errors.Is(err, job.ErrQueueFull):
		return http.StatusServiceUnavailable, wire.CodeQueueFull, err.Error()
	case errors.Is(err, job.ErrInputTooLarge):
		return http.StatusRequestEntityTooLarge, wire.CodeInputTooLarge, err.Error()
	case errors.Is(err, job.ErrClosed):
		return http.StatusServiceUnavailable, wire.CodeUnavailable, "node is shutting down"
	case wasm.KindOf(err) != 0:
		return wasmStatus(err)
	case errors.Is(err, chain.ErrNotFound), errors.Is(err, program.ErrNotFound):
		return http.StatusNotFound, wire.CodeNotFound, err.Error()
	case errors.Is(err, state.ErrUnknownRoot):
		return http.StatusNotFound, wire.CodeUnknownRoot, "the program never committed this root, or it was pruned"
	case errors.Is(err, chain.ErrInvalidRequest):
		return http.StatusBadRequest, wire.CodeInvalidRequest, err.Error()
	case errors.Is(err, chain.ErrInputTooLarge):
		return http.StatusRequestEntityTooLarge, wire.CodeInputTooLarge, err.Error()
	case errors.Is(err, chain.ErrRequestConflict):
		return http.StatusConflict, wire.CodeRequestConflict, err.Error()
	case errors.Is(err, chain.ErrOutputUnavailable):
		return http.StatusConflict, wire.CodeOutputUnavailable, err.Error()
	case errors.Is(err, p2p.ErrNotEnoughPeers):
		return http.StatusServiceUnavailable, wire.CodeMinPeers, err.Error()
	case errors.Is(err, replica.ErrFetchLimited):
		return http.StatusServiceUnavailable, wire.CodeFetchLimited, err.Error()
	case errors.Is(err, replica.ErrProvidersUnreachable):
		return http.StatusServiceUnavailable, wire.CodeProvidersUnreachable, err.Error()
	case errors.Is(err, replica.ErrFetchPending):
		return http.StatusServiceUnavailable, wire.CodeFetching, err.Error()
	case errors.Is(err, replica.ErrProgramPending):
		return http.StatusServiceUnavailable, wire.CodeProgramPending, err.Error()
	case errors.Is(err, replica.ErrLeaderUnavailable):
		return http.StatusServiceUnavailable, wire.CodeLeaderUnavailable, err.Error()
	case errors.Is(err, replica.ErrBadForward):
		return http.StatusBadGateway, wire.CodeBadForward, err.Error()
	case errors.Is(err, dag.ErrQueueFull):
		return http.StatusServiceUnavailable, wire.CodeBusy, err.Error()
	case errors.Is(err, chain.ErrNotDecided):
		return http.StatusServiceUnavailable, wire.CodeNotDecided, err.Error()
	case errors.Is(err, chain.ErrBusy):
		return http.StatusServiceUnavailable, wire.CodeCommitteeBusy, err.Error()
	case errors.Is(err, chain.ErrNotInCommittee):
		return http.StatusServiceUnavailable, wire.CodeCommitteeUnavailable, err.Error()
	case errors.Is(err, chain.ErrEnvMismatch):
		return http.StatusUnprocessableEntity, wire.CodeEnvMismatch, err.Error()
	case errors.Is(err, chain.ErrClosed):
		return http.StatusServiceUnavailable, wire.CodeUnavailable, "node is shutting down"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, wire.CodeCanceled, "request canceled"
	}
	return http.StatusInternalServerError, wire.CodeInternal, "internal error"
}

// authCode names the failed authentication check (401), or "" if err is
// not an authentication failure. Messages carry no secret material.
func authCode(err error) string {
	for _, c := range []struct {
		err  error
		code string
	}{
		{auth.ErrMissingHeader, wire.CodeMissingAuthHeader},
		{auth.ErrMalformedHeader, wire.CodeMalformedAuthHeader},
		{auth.ErrUnknownProject, wire.CodeUnknownProject},
		{auth.ErrTimestamp, wire.CodeBadTimestamp},
		{auth.ErrReplay, wire.CodeReplayedNonce},
		{auth.ErrBadSignature, wire.CodeBadSignature},
		{auth.ErrBodyMismatch, wire.CodeBodyHashMismatch},
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
	if name == wire.CodeCompiling || name == wire.CodeTooManyInFlight || name == wire.CodeCommitteeBusy || name == wire.CodeNotDecided {
		h.Set("Retry-After", "1")
	}
	body := wire.ErrorBody{Error: wire.ErrorDetail{Code: name, Message: msg}}
	var we *wasm.Error
	if errors.As(err, &we) && we.Kind != wasm.KindInvalidModule && we.Kind != wasm.KindInvalidInput {
		body.Error.FuelUsed, body.Error.Logs = &we.FuelUsed, guestLogs(we.Logs)
	}
	writeJSON(w, code, body)
}

// wasmStatus maps a runtime failure: a module rejected at deploy or a
// malformed call is 400 (a module over a module limit with the code
// module_limit_<limit>, e.g. module_limit_function_size); the guest's own
// failures (trap, out of fuel, out of memory, call depth, output or state
// writes too large) are 422 with the runtime's kind as the code; the
// node's wall-clock limit is 504; a cancelled call 503, and a call whose
// program is still compiling on this node 503 compiling (nothing ran; the
// answer has Retry-After).
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
			return http.StatusBadRequest, wire.CodeModuleLimitPrefix + we.Limit, "invalid wasm module: " + msg
		}
		return http.StatusBadRequest, wire.CodeInvalidModule, "invalid wasm module: " + msg
	case wasm.KindInvalidInput:
		return http.StatusBadRequest, wire.CodeInvalidInput, msg
	case wasm.KindTimeout:
		return http.StatusGatewayTimeout, wire.CodeTimeout, msg
	case wasm.KindCancelled:
		return http.StatusServiceUnavailable, wire.CodeCancelled, msg
	case wasm.KindCompiling:
		return http.StatusServiceUnavailable, wire.CodeCompiling, msg
	}
	return http.StatusUnprocessableEntity, kind.String(), msg
}

// guestLogs converts what a guest logged; nil stays nil.
func guestLogs(logs []wasm.Log) []wire.Log {
	if logs == nil {
		return nil
	}
	out := make([]wire.Log, len(logs))
	for i, l := range logs {
		out[i] = wire.Log{Source: l.Source, Level: uint8(l.Level), Message: l.Message}
	}
	return out
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
