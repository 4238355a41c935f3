package auth

import "errors"

// Verification failures. Each says which check failed; the wrapped detail
// never contains secret material.
var (
	ErrMissingHeader   = errors.New("missing auth header")
	ErrMalformedHeader = errors.New("malformed auth header")
	ErrUnknownProject  = errors.New("unknown project")
	ErrTimestamp       = errors.New("timestamp outside the allowed clock skew")
	ErrReplay          = errors.New("nonce already used")
	ErrBadSignature    = errors.New("bad signature")
	ErrBodyMismatch    = errors.New("request body does not match x-content-sha256")
	ErrRateLimited     = errors.New("project rate limit exceeded")
	ErrNonceCacheFull  = errors.New("too many requests from this project within the replay window")
	ErrMethodDenied    = errors.New("method not allowed by rpc_auth.allowed_methods")
	ErrBodyTooLarge    = errors.New("request body larger than rpc_auth.max_body_size")
)

// Project management and key material.
var (
	ErrProjectExists   = errors.New("project already exists")
	ErrProjectNotFound = errors.New("project not found")
	ErrInvalidProject  = errors.New("invalid project id or secret")
	ErrAdminDenied     = errors.New("admin request denied")
	ErrCorrupt         = errors.New("corrupt auth record")
	ErrMasterKind      = errors.New("file is not an RPC auth master secret")
)
