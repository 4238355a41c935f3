package auth

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// A project record is stored under "a/p/<project id>":
//
//	offset  size  field
//	0       1     version (1)
//	1       8     created at, Unix ms (big-endian int64)
//	9       24    XChaCha20-Poly1305 nonce
//	33      48    sealed project secret (32) + tag (16)
//
// The AEAD key is HKDF-SHA256(master secret, info "onvm rpc-auth project
// secrets v1"); the associated data is "onvm-project\x00" ‖ project id ‖
// bytes 0–8, so a record moved to another id or with an edited date fails
// to open.
const (
	recordVersion = 1
	recordHeader  = 1 + 8
	recordSize    = recordHeader + chacha20poly1305.NonceSizeX + SecretSize + chacha20poly1305.Overhead
	projectPrefix = "a/p/"
	hkdfInfo      = "onvm rpc-auth project secrets v1"
)

// projectKey returns the database key of a project.
func projectKey(id string) []byte { return []byte(projectPrefix + id) }

// newSealer derives the record AEAD from the master secret.
func newSealer(master []byte) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, master, nil, hkdfInfo, chacha20poly1305.KeySize)
	if err != nil {
		return nil, fmt.Errorf("derive project key: %w", err)
	}
	return chacha20poly1305.NewX(key)
}

func recordAAD(id string, header []byte) []byte {
	aad := append([]byte("onvm-project\x00"), id...)
	return append(aad, header...)
}

// sealRecord encrypts a project secret into a record.
func sealRecord(aead cipher.AEAD, id string, secret []byte, created time.Time, rand io.Reader) ([]byte, error) {
	b := make([]byte, recordHeader+chacha20poly1305.NonceSizeX, recordSize)
	b[0] = recordVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(created.UnixMilli()))
	nonce := b[recordHeader:]
	if _, err := io.ReadFull(rand, nonce); err != nil {
		return nil, fmt.Errorf("seal project %s: %w", id, err)
	}
	return aead.Seal(b, nonce, secret, recordAAD(id, b[:recordHeader])), nil
}

// openRecord decodes and decrypts a record; any malformation or a failed
// tag is ErrCorrupt.
func openRecord(aead cipher.AEAD, id string, b []byte) (secret []byte, created time.Time, err error) {
	if len(b) != recordSize || b[0] != recordVersion {
		return nil, time.Time{}, fmt.Errorf("project %s: %w: bad length or version", id, ErrCorrupt)
	}
	ms := int64(binary.BigEndian.Uint64(b[1:9]))
	nonce := b[recordHeader : recordHeader+chacha20poly1305.NonceSizeX]
	secret, err = aead.Open(nil, nonce, b[recordHeader+chacha20poly1305.NonceSizeX:], recordAAD(id, b[:recordHeader]))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("project %s: %w: does not open with this node's master secret", id, ErrCorrupt)
	}
	return secret, time.UnixMilli(ms).UTC(), nil
}
