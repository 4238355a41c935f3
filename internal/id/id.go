// Package id defines ONVM's 32-byte identifiers and their text forms.
//
// Every identifier is a BLAKE3-256 digest. Blob and program ids carry a
// textual prefix ("blob", "prog"); everything else is bare lowercase hex.
// Parsing accepts ids with or without their prefix, in any case, with
// surrounding whitespace trimmed, and rejects an id of the other kind with a
// message that says so.
//
// The package does no I/O.
package id

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/zeebo/blake3"
)

// Size is the length in bytes of every identifier.
const Size = 32

// Text prefixes of blob and program ids.
const (
	BlobPrefix    = "blob"
	ProgramPrefix = "prog"
)

// Hash is a 32-byte BLAKE3-256 digest. The zero Hash is not a valid id of
// anything; IsZero reports it.
type Hash [Size]byte

// Sum returns the BLAKE3-256 digest of the concatenation of parts.
func Sum(parts ...[]byte) Hash {
	if len(parts) == 1 {
		return blake3.Sum256(parts[0])
	}
	h := blake3.New()
	for _, p := range parts {
		_, _ = h.Write(p)
	}
	var out Hash
	h.Sum(out[:0])
	return out
}

// String returns the lowercase hex form.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zero bytes.
func (h Hash) IsZero() bool { return h == Hash{} }

// Bytes returns a copy of h as a slice.
func (h Hash) Bytes() []byte { return append([]byte(nil), h[:]...) }

// MarshalText implements encoding.TextMarshaler (bare hex).
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (bare hex, no prefix).
func (h *Hash) UnmarshalText(b []byte) error {
	v, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// ErrSyntax is wrapped by every parse error.
var ErrSyntax = errors.New("invalid id")

// Blob identifies a blob: the standard BLAKE3-256 hash of its bytes.
type Blob Hash

// BlobOf returns the id of the given bytes.
func BlobOf(data []byte) Blob { return Blob(blake3.Sum256(data)) }

// String returns "blob" followed by 64 lowercase hex digits.
func (b Blob) String() string { return BlobPrefix + Hash(b).String() }

// Hash returns b as a plain Hash.
func (b Blob) Hash() Hash { return Hash(b) }

// MarshalText implements encoding.TextMarshaler with the prefixed form.
func (b Blob) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (prefix optional).
func (b *Blob) UnmarshalText(t []byte) error {
	v, err := ParseBlob(string(t))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// Program identifies a program: BLAKE3(wasm ‖ salt).
type Program Hash

// ProgramOf returns the id of a program deployed with the given code and salt.
func ProgramOf(wasm, salt []byte) Program { return Program(Sum(wasm, salt)) }

// String returns "prog" followed by 64 lowercase hex digits.
func (p Program) String() string { return ProgramPrefix + Hash(p).String() }

// Hash returns p as a plain Hash.
func (p Program) Hash() Hash { return Hash(p) }

// MarshalText implements encoding.TextMarshaler with the prefixed form.
func (p Program) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (prefix optional).
func (p *Program) UnmarshalText(t []byte) error {
	v, err := ParseProgram(string(t))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// Job identifies a job: BLAKE3(program id ‖ request id). The same request id
// submitted for the same program always names the same job.
type Job Hash

// JobOf returns the id of the job with the given program and request id.
func JobOf(p Program, requestID string) Job {
	return Job(Sum(p[:], []byte(requestID)))
}

// String returns 64 lowercase hex digits.
func (j Job) String() string { return Hash(j).String() }

// MarshalText implements encoding.TextMarshaler.
func (j Job) MarshalText() ([]byte, error) { return []byte(j.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (j *Job) UnmarshalText(t []byte) error {
	v, err := ParseJob(string(t))
	if err != nil {
		return err
	}
	*j = v
	return nil
}

// ParseBlob parses a blob id, with or without its "blob" prefix.
func ParseBlob(s string) (Blob, error) {
	h, err := parse(s, BlobPrefix, ProgramPrefix, "blob", "program")
	return Blob(h), err
}

// ParseProgram parses a program id, with or without its "prog" prefix.
func ParseProgram(s string) (Program, error) {
	h, err := parse(s, ProgramPrefix, BlobPrefix, "program", "blob")
	return Program(h), err
}

// ParseJob parses a job id: 64 hex digits, no prefix.
func ParseJob(s string) (Job, error) {
	h, err := ParseHash(s)
	return Job(h), err
}

// ParseHash parses 64 hex digits (case-insensitive, whitespace trimmed).
func ParseHash(s string) (Hash, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Hash{}, fmt.Errorf("%w: id cannot be empty", ErrSyntax)
	}
	lower := strings.ToLower(s)
	if strings.HasPrefix(lower, BlobPrefix) || strings.HasPrefix(lower, ProgramPrefix) {
		return Hash{}, fmt.Errorf("%w: unexpected %q prefix", ErrSyntax, s[:4])
	}
	return decodeHex(s)
}

func parse(s, want, other, wantName, otherName string) (Hash, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Hash{}, fmt.Errorf("%w: id cannot be empty", ErrSyntax)
	}
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, want):
		s = s[len(want):]
	case strings.HasPrefix(lower, other):
		return Hash{}, fmt.Errorf("%w: expected %s id, got %s id prefix %q", ErrSyntax, wantName, otherName, other)
	}
	return decodeHex(s)
}

func decodeHex(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*Size {
		// Report bytes, not characters, when the text is valid hex.
		if _, err := hex.DecodeString(s); err == nil {
			return h, fmt.Errorf("%w: invalid id length: expected %d bytes, got %d", ErrSyntax, Size, len(s)/2)
		}
		if len(s)%2 == 1 {
			if _, err := hex.DecodeString(s[:len(s)-1]); err == nil {
				return h, fmt.Errorf("%w: invalid id length: expected %d hex digits, got %d", ErrSyntax, 2*Size, len(s))
			}
		}
		return h, fmt.Errorf("%w: invalid hex", ErrSyntax)
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("%w: invalid hex: %v", ErrSyntax, err)
	}
	return h, nil
}

// Node identifies a node: its raw 32-byte Ed25519 public key. Its libp2p
// peer id derives from the same key.
type Node [Size]byte

// String returns 64 lowercase hex digits.
func (n Node) String() string { return hex.EncodeToString(n[:]) }

// MarshalText implements encoding.TextMarshaler.
func (n Node) MarshalText() ([]byte, error) { return []byte(n.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (n *Node) UnmarshalText(t []byte) error {
	h, err := ParseHash(string(t))
	if err != nil {
		return err
	}
	*n = Node(h)
	return nil
}
