package wire

// ErrorBody is the body of every error answer:
// {"error":{"code":"…","message":"…"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is an error: Code is stable and meant for programs (the
// Code… constants), Message is for people.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// FuelUsed and Logs describe a failed execution (codes trap,
	// out_of_fuel, timeout, …): the fuel it consumed and what it logged.
	FuelUsed *uint64 `json:"fuel_used,omitempty"`
	Logs     []Log   `json:"logs,omitempty"`
}

// Error codes (docs/api.md lists when each is sent, with its status). A
// failed execution's code is also one of the runtime's kinds (trap,
// out_of_fuel, …, the Code… constants below), a module over a module limit
// is CodeModuleLimitPrefix followed by the limit's name, and a bare HTTP
// status decided by net/http is "http_" followed by the number.
const (
	// Requests the node refuses to read (400).
	CodeInvalidQuery   = "invalid_query"
	CodeInvalidJSON    = "invalid_json"
	CodeInvalidBase64  = "invalid_base64"
	CodeInvalidHex     = "invalid_hex"
	CodeInvalidID      = "invalid_id"
	CodeInvalidMIME    = "invalid_mime"
	CodeInvalidRequest = "invalid_request"
	CodeInvalidLimit   = "invalid_limit"
	CodeInvalidCursor  = "invalid_cursor"
	CodeInvalidHeight  = "invalid_height"
	CodeInvalidStatus  = "invalid_status"
	CodeInvalidWait    = "invalid_wait"
	CodeInvalidProject = "invalid_project"
	CodeInvalidModule  = "invalid_module"
	CodeInvalidInput   = "invalid_input"
	CodeUploadAborted  = "upload_aborted"

	// CodeModuleLimitPrefix starts the code of a module over one of the
	// node's module limits, e.g. module_limit_function_size.
	CodeModuleLimitPrefix = "module_limit_"

	// Authentication (401, 403, 429).
	CodeMissingAuthHeader   = "missing_auth_header"
	CodeMalformedAuthHeader = "malformed_auth_header"
	CodeUnknownProject      = "unknown_project"
	CodeBadTimestamp        = "bad_timestamp"
	CodeReplayedNonce       = "replayed_nonce"
	CodeBadSignature        = "bad_signature"
	CodeBodyHashMismatch    = "body_hash_mismatch"
	CodeForbidden           = "forbidden"
	CodeCORSDenied          = "cors_denied"
	CodeRateLimited         = "rate_limited"

	// What was asked for is missing (404).
	CodeNotFound    = "not_found"
	CodeIncomplete  = "incomplete"
	CodeUnknownRoot = "unknown_root"

	// Conflicts (405, 409, 412, 413, 416, 422, 431).
	CodeMethodNotAllowed    = "method_not_allowed"
	CodeBusy                = "busy"
	CodeRequestConflict     = "request_conflict"
	CodeJobTerminal         = "job_terminal"
	CodeJobNotCompleted     = "job_not_completed"
	CodeOutputUnavailable   = "output_unavailable"
	CodeProjectExists       = "project_exists"
	CodePreconditionFailed  = "precondition_failed"
	CodeTooLarge            = "too_large"
	CodeInputTooLarge       = "input_too_large"
	CodeModuleTooLarge      = "module_too_large"
	CodeRangeNotSatisfiable = "range_not_satisfiable"
	CodeEnvMismatch         = "env_mismatch"
	CodeHeadersTooLarge     = "headers_too_large"

	// A guest's own failures (422), the wall-clock limit (504) and a
	// cancelled call (503): the runtime's kinds.
	CodeTrap              = "trap"
	CodeOutOfFuel         = "out_of_fuel"
	CodeOutOfMemory       = "out_of_memory"
	CodeCallDepthExceeded = "call_depth_exceeded"
	CodeOutputTooLarge    = "output_too_large"
	CodeWritesTooLarge    = "writes_too_large"
	CodeTimeout           = "timeout"
	CodeCancelled         = "cancelled"
	CodeTooManyInFlight   = "too_many_in_flight" // 429: the project has rpc_auth.max_*_in_flight requests of this kind running
	CodeCompiling         = "compiling"          // 503: the program is still compiling on the node; nothing ran; Retry-After

	// The node cannot answer now (500, 502, 503, 507).
	CodeInternal             = "internal"
	CodeCorrupt              = "corrupt"
	CodeBadForward           = "bad_forward"
	CodeUnavailable          = "unavailable"
	CodeCanceled             = "canceled"
	CodeQueueFull            = "queue_full"
	CodeMinPeers             = "min_peers"
	CodeFetching             = "fetching"
	CodeFetchLimited         = "fetch_limited"
	CodeProvidersUnreachable = "providers_unreachable"
	CodeProgramPending       = "program_pending"
	CodeLeaderUnavailable    = "leader_unavailable"
	CodeCommitteeUnavailable = "committee_unavailable"
	CodeNotDecided           = "not_decided"
	CodeCommitteeBusy        = "committee_busy"
	CodeInsufficientStorage  = "insufficient_storage"
)
