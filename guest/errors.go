package guest

import (
	"errors"
	"strconv"
)

var (
	// ErrNotFound reports a state key or blob that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrUnavailable reports a blob the node knows of but cannot read
	// (its chunks are missing locally or corrupt).
	ErrUnavailable = errors.New("blob unavailable")
	// ErrNoHandler reports a call into a module that never called Handle.
	ErrNoHandler = errors.New("no handler registered (call guest.Handle from an init function)")
	// ErrInput reports an input buffer the node did not obtain from onvm_alloc.
	ErrInput = errors.New("input not in an onvm_alloc buffer")
	// ErrInvalidSignature reports a malformed secp256k1 signature.
	ErrInvalidSignature = errors.New("invalid signature")
	// ErrInvalidPublicKey reports a malformed secp256k1 public key.
	ErrInvalidPublicKey = errors.New("invalid public key")

	// errTooManyRetries reports a value or key list that kept outgrowing
	// the buffer; an honest host never causes it.
	errTooManyRetries = errors.New("state read: size kept changing between attempts")
	// errKeyList reports onvm_state_list output that does not decode.
	errKeyList = errors.New("onvm_state_list: malformed key list")
)

// HostError is a return code from a host function that the SDK has no
// sentinel for. Codes are listed with each function in the host ABI.
type HostError struct {
	Op   string // host function name, e.g. "onvm_state_get"
	Code int64  // the negative return code
}

func (e *HostError) Error() string {
	return e.Op + ": host returned " + strconv.FormatInt(e.Code, 10)
}

func hostErr(op string, code int64) error { return &HostError{Op: op, Code: code} }
