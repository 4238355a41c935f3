package identity

import "errors"

// Errors returned when loading or creating keys.
var (
	ErrNotFound            = errors.New("identity not found; run `onvm init` first")
	ErrWrongPassphrase     = errors.New("wrong identity passphrase (or the key file was modified)")
	ErrPassphraseRequired  = errors.New("identity is encrypted; provide --identity-passphrase or ONVM_IDENTITY_PASSPHRASE")
	ErrPlaintextDisallowed = errors.New("identity is stored in plaintext; pass --allow-plaintext-identity to use it")
	ErrCorrupt             = errors.New("corrupt key file")
	ErrEmptyPassphrase     = errors.New("passphrase cannot be empty")
)
