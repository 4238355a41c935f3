package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"

	"github.com/onvm-network/onvm/internal/id"
)

// Request headers of a signed request (canonical MIME form).
const (
	HeaderProjectID     = "X-Project-Id"
	HeaderTimestamp     = "X-Timestamp"      // Unix milliseconds, decimal
	HeaderNonce         = "X-Nonce"          // 8–128 of [A-Za-z0-9._~-]
	HeaderContentSHA256 = "X-Content-Sha256" // hex SHA-256 of the raw body bytes
	HeaderSignature     = "X-Signature"      // hex HMAC-SHA256 of Canonical
)

// SignedHeaders lists the headers a signed request carries, in the order
// they are checked for presence.
var SignedHeaders = []string{HeaderProjectID, HeaderTimestamp, HeaderNonce, HeaderContentSHA256, HeaderSignature}

// Scheme is the first line of the canonical string; it changes with any
// change of the format (ONVM-HMAC-SHA256 did not name the node).
const Scheme = "ONVM2-HMAC-SHA256"

// Limits on header values.
const (
	MaxProjectIDLen = 64
	MinNonceLen     = 8
	MaxNonceLen     = 128
	SecretSize      = 32
)

// EmptyBodySHA256 is the SHA-256 of no bytes.
var EmptyBodySHA256 = sha256.Sum256(nil)

// Headers are the parsed authentication headers of a request.
type Headers struct {
	ProjectID  string
	Timestamp  int64 // Unix ms
	Nonce      string
	BodySHA256 [32]byte
	Signature  [32]byte
}

// Present reports whether h carries any of the signed-request headers.
func Present(h http.Header) bool {
	for _, k := range SignedHeaders {
		if len(h.Values(k)) > 0 {
			return true
		}
	}
	return false
}

// ParseHeaders extracts and syntax-checks the authentication headers. Every
// header must appear exactly once; the error names the first one missing or
// malformed.
func ParseHeaders(h http.Header) (Headers, error) {
	var out Headers
	get := func(k string) (string, error) {
		v := h.Values(k)
		switch {
		case len(v) == 0 || v[0] == "":
			return "", fmt.Errorf("%w: %s", ErrMissingHeader, lower(k))
		case len(v) > 1:
			return "", fmt.Errorf("%w: %s given %d times", ErrMalformedHeader, lower(k), len(v))
		}
		return v[0], nil
	}
	var err error
	if out.ProjectID, err = get(HeaderProjectID); err != nil {
		return out, err
	}
	if !ValidProjectID(out.ProjectID) {
		return out, fmt.Errorf("%w: x-project-id must be 1-%d characters of A-Z a-z 0-9 . _ -", ErrMalformedHeader, MaxProjectIDLen)
	}
	ts, err := get(HeaderTimestamp)
	if err != nil {
		return out, err
	}
	if out.Timestamp, err = parseMillis(ts); err != nil {
		return out, err
	}
	if out.Nonce, err = get(HeaderNonce); err != nil {
		return out, err
	}
	if !validNonce(out.Nonce) {
		return out, fmt.Errorf("%w: x-nonce must be %d-%d characters of A-Z a-z 0-9 . _ ~ -", ErrMalformedHeader, MinNonceLen, MaxNonceLen)
	}
	sum, err := get(HeaderContentSHA256)
	if err != nil {
		return out, err
	}
	if err := decodeHex32(sum, &out.BodySHA256); err != nil {
		return out, fmt.Errorf("%w: x-content-sha256 must be 64 hex digits", ErrMalformedHeader)
	}
	sig, err := get(HeaderSignature)
	if err != nil {
		return out, err
	}
	if err := decodeHex32(sig, &out.Signature); err != nil {
		return out, fmt.Errorf("%w: x-signature must be 64 hex digits", ErrMalformedHeader)
	}
	return out, nil
}

// Canonical returns the string that is signed:
//
//	ONVM2-HMAC-SHA256\n
//	<node id: 64 lowercase hex digits>\n
//	<METHOD>\n
//	<path and query exactly as sent>\n
//	<project id>\n
//	<timestamp ms>\n
//	<nonce>\n
//	<lowercase hex SHA-256 of the body>
//
// (no newline after the last line). The node id is the id of the node the
// request is meant for, so a request signed for one node is refused by
// every other node holding the same project credentials.
func Canonical(node id.Node, method, target string, h Headers) []byte {
	b := make([]byte, 0, 320)
	b = append(b, Scheme...)
	b = append(b, '\n')
	b = hex.AppendEncode(b, node[:])
	b = append(b, '\n')
	b = append(b, method...)
	b = append(b, '\n')
	b = append(b, target...)
	b = append(b, '\n')
	b = append(b, h.ProjectID...)
	b = append(b, '\n')
	b = strconv.AppendInt(b, h.Timestamp, 10)
	b = append(b, '\n')
	b = append(b, h.Nonce...)
	b = append(b, '\n')
	b = hex.AppendEncode(b, h.BodySHA256[:])
	return b
}

// Sign returns the HMAC-SHA256 of the canonical string under secret.
func Sign(secret []byte, node id.Node, method, target string, h Headers) [32]byte {
	m := hmac.New(sha256.New, secret)
	m.Write(Canonical(node, method, target, h))
	var out [32]byte
	m.Sum(out[:0])
	return out
}

// SetHeaders writes h (with its Signature) into hdr.
func SetHeaders(hdr http.Header, h Headers) {
	hdr.Set(HeaderProjectID, h.ProjectID)
	hdr.Set(HeaderTimestamp, strconv.FormatInt(h.Timestamp, 10))
	hdr.Set(HeaderNonce, h.Nonce)
	hdr.Set(HeaderContentSHA256, hex.EncodeToString(h.BodySHA256[:]))
	hdr.Set(HeaderSignature, hex.EncodeToString(h.Signature[:]))
}

// ValidProjectID reports whether s is a well-formed project id.
func ValidProjectID(s string) bool {
	if len(s) == 0 || len(s) > MaxProjectIDLen {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !(isAlnum(c) || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func validNonce(s string) bool {
	if len(s) < MinNonceLen || len(s) > MaxNonceLen {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !(isAlnum(c) || c == '.' || c == '_' || c == '~' || c == '-') {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// parseMillis accepts 1–16 decimal digits (no sign, no spaces).
func parseMillis(s string) (int64, error) {
	bad := fmt.Errorf("%w: x-timestamp must be Unix milliseconds (decimal digits)", ErrMalformedHeader)
	if len(s) == 0 || len(s) > 16 {
		return 0, bad
	}
	var n int64
	for i := range len(s) {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, bad
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

func decodeHex32(s string, out *[32]byte) error {
	if len(s) != 64 {
		return ErrMalformedHeader
	}
	_, err := hex.Decode(out[:], []byte(s))
	return err
}

// lower returns the header name as documented (lowercase).
func lower(k string) string {
	b := []byte(k)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
