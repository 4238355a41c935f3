package identity

import (
	"bytes"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"io"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// A key file is binary:
//
//	offset  size  field
//	0       8     magic "ONVM-KEY"
//	8       1     version (1)
//	9       1     kind: 1 = Ed25519 seed, 2 = BLS12-381 secret key,
//	              3 = a 32-byte secret with no public key (the RPC auth master secret)
//	10      1     protection: 0 = plaintext, 1 = Argon2id + XChaCha20-Poly1305
//	11      1     reserved, 0
//	12      P     public key (P = 32 for Ed25519, 96 for BLS)
//	then, plaintext:
//	        32    secret key
//	then, encrypted:
//	        4     Argon2id time (big-endian uint32)
//	        4     Argon2id memory in KiB (big-endian uint32)
//	        1     Argon2id threads
//	        16    salt
//	        24    XChaCha20-Poly1305 nonce
//	        48    sealed secret key (32) + tag (16)
//
// The encryption key is Argon2id(passphrase, salt, time, memory, threads,
// 32 bytes). Everything before the sealed key is the AEAD's associated data,
// so a changed header (kind, public key, parameters) fails to open exactly as
// a wrong passphrase does. The public key sits in clear so that the node id
// can be shown without the passphrase; after opening, it must equal the key
// derived from the secret, which also catches edits of a plaintext file.

const (
	magic       = "ONVM-KEY"
	version     = 1
	headerSize  = 12
	secretSize  = 32
	saltSize    = 16
	paramsSize  = 4 + 4 + 1
	sealedSize  = secretSize + chacha20poly1305.Overhead
	plainProt   = 0
	sealedProt  = 1
	keySizeArgo = 32
)

// Kind says which key a file holds.
type Kind byte

// Kinds of key file.
const (
	KindEd25519 Kind = 1
	KindBLS     Kind = 2
	KindSecret  Kind = 3 // a bare 32-byte secret (P = 0), e.g. the RPC auth master secret
)

func (k Kind) String() string {
	switch k {
	case KindEd25519:
		return "Ed25519"
	case KindBLS:
		return "BLS12-381"
	case KindSecret:
		return "secret"
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

func (k Kind) publicSize() int {
	switch k {
	case KindEd25519:
		return 32
	case KindBLS:
		return 96
	case KindSecret:
		return 0
	}
	return -1
}

// KDF holds Argon2id parameters.
type KDF struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultKDF is OWASP's minimum Argon2id setting (the original's too).
var DefaultKDF = KDF{Time: 2, Memory: 19456, Threads: 1}

// Bounds on parameters read from a file, so an edited file cannot make the
// node allocate or spin without limit.
const (
	maxKDFTime   = 16
	maxKDFMemory = 1 << 20 // 1 GiB in KiB
)

// File is a decoded key file whose secret may still be sealed.
type File struct {
	Kind      Kind
	Encrypted bool
	Public    []byte
	KDF       KDF
	salt      []byte
	nonce     []byte
	secret    []byte // plaintext secret or sealed secret
	aad       []byte
}

// Parse decodes a key file's structure without opening it.
func Parse(b []byte) (*File, error) {
	if len(b) < headerSize || string(b[:8]) != magic {
		return nil, fmt.Errorf("%w: not an ONVM key file", ErrCorrupt)
	}
	if b[8] != version {
		return nil, fmt.Errorf("%w: unsupported key file version %d", ErrCorrupt, b[8])
	}
	f := &File{Kind: Kind(b[9])}
	p := f.Kind.publicSize()
	if p < 0 {
		return nil, fmt.Errorf("%w: unknown key kind %d", ErrCorrupt, b[9])
	}
	if b[11] != 0 {
		return nil, fmt.Errorf("%w: reserved byte is %d", ErrCorrupt, b[11])
	}
	rest := b[headerSize:]
	if len(rest) < p {
		return nil, fmt.Errorf("%w: truncated", ErrCorrupt)
	}
	f.Public, rest = bytes.Clone(rest[:p]), rest[p:]
	switch b[10] {
	case plainProt:
		if len(rest) != secretSize {
			return nil, fmt.Errorf("%w: plaintext key has %d bytes, want %d", ErrCorrupt, len(rest), secretSize)
		}
		f.secret = bytes.Clone(rest)
	case sealedProt:
		if len(rest) != paramsSize+saltSize+chacha20poly1305.NonceSizeX+sealedSize {
			return nil, fmt.Errorf("%w: encrypted key has the wrong length", ErrCorrupt)
		}
		f.Encrypted = true
		f.KDF = KDF{
			Time:    binary.BigEndian.Uint32(rest[0:4]),
			Memory:  binary.BigEndian.Uint32(rest[4:8]),
			Threads: rest[8],
		}
		if f.KDF.Time == 0 || f.KDF.Time > maxKDFTime || f.KDF.Memory < 8*uint32(max(f.KDF.Threads, 1)) ||
			f.KDF.Memory > maxKDFMemory || f.KDF.Threads == 0 {
			return nil, fmt.Errorf("%w: Argon2id parameters out of range", ErrCorrupt)
		}
		rest = rest[paramsSize:]
		f.salt, rest = bytes.Clone(rest[:saltSize]), rest[saltSize:]
		f.nonce, rest = bytes.Clone(rest[:chacha20poly1305.NonceSizeX]), rest[chacha20poly1305.NonceSizeX:]
		f.secret = bytes.Clone(rest)
		f.aad = bytes.Clone(b[:len(b)-sealedSize])
	default:
		return nil, fmt.Errorf("%w: unknown protection %d", ErrCorrupt, b[10])
	}
	return f, nil
}

// Open returns the secret key, decrypting it with passphrase when the file
// is encrypted. A plaintext file is refused unless allowPlaintext.
func (f *File) Open(passphrase []byte, allowPlaintext bool) ([]byte, error) {
	if !f.Encrypted {
		if !allowPlaintext {
			return nil, ErrPlaintextDisallowed
		}
		return bytes.Clone(f.secret), nil
	}
	if len(passphrase) == 0 {
		return nil, ErrPassphraseRequired
	}
	key := argon2.IDKey(passphrase, f.salt, f.KDF.Time, f.KDF.Memory, f.KDF.Threads, keySizeArgo)
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("open %s key: %w", f.Kind, err)
	}
	secret, err := aead.Open(nil, f.nonce, f.secret, f.aad)
	if err != nil {
		return nil, ErrWrongPassphrase
	}
	return secret, nil
}

// checkPublic reports whether the public key derived from the secret is the
// one recorded in the file.
func (f *File) checkPublic(derived []byte) error {
	if subtle.ConstantTimeCompare(derived, f.Public) != 1 {
		return fmt.Errorf("%w: %s public key does not match its secret key", ErrCorrupt, f.Kind)
	}
	return nil
}

// Encode builds a key file. With an empty passphrase the secret is stored in
// plaintext; otherwise it is sealed with kdf and randomness from rand.
func Encode(kind Kind, public, secret, passphrase []byte, kdf KDF, rand io.Reader) ([]byte, error) {
	if len(public) != kind.publicSize() || len(secret) != secretSize {
		return nil, fmt.Errorf("encode %s key: bad key sizes %d/%d", kind, len(public), len(secret))
	}
	b := append([]byte(magic), version, byte(kind), plainProt, 0)
	b = append(b, public...)
	if len(passphrase) == 0 {
		return append(b, secret...), nil
	}
	b[10] = sealedProt
	b = binary.BigEndian.AppendUint32(b, kdf.Time)
	b = binary.BigEndian.AppendUint32(b, kdf.Memory)
	b = append(b, kdf.Threads)
	random := make([]byte, saltSize+chacha20poly1305.NonceSizeX)
	if _, err := io.ReadFull(rand, random); err != nil {
		return nil, fmt.Errorf("encode %s key: %w", kind, err)
	}
	salt, nonce := random[:saltSize], random[saltSize:]
	b = append(b, random...)
	key := argon2.IDKey(passphrase, salt, kdf.Time, kdf.Memory, kdf.Threads, keySizeArgo)
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("encode %s key: %w", kind, err)
	}
	return aead.Seal(b, nonce, secret, bytes.Clone(b)), nil
}
