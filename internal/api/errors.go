package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/id"
)

// Error is the body of every error response:
// {"error":{"code":"…","message":"…"}}.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
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
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "canceled", "request canceled"
	}
	return http.StatusInternalServerError, "internal", "internal error"
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
	writeJSON(w, code, errorBody{Error: Error{Code: name, Message: msg}})
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
