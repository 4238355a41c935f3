// Package program defines ONVM's signed program manifests and the catalog
// that stores them.
//
// A ProgramManifest is what a deployer node says about a program: which code
// (by blob id, with the salt that binds it to the program id), which
// entrypoints, which runtime environment, which committee finalizes its
// transitions, and its initial state root. The deployer signs it with its
// Ed25519 node key; every node verifies the signature, the committee and —
// once it holds the code — that BLAKE3(code ‖ salt) is the program id,
// before it stores or acts on a manifest. A manifest from a peer is never
// trusted for what it merely claims.
package program

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
)

// ManifestVersion is the only manifest version this code produces and
// accepts.
const ManifestVersion = 1

// Limits on what a manifest may carry.
const (
	MaxEntrypoints    = 16
	MaxEntrypointName = 128
	MaxBlobRefs       = 256
	MaxSaltSize       = 64
	MaxManifestSize   = 256 << 10
)

// manifestDomain separates manifest signatures from every other Ed25519
// signature a node makes.
const manifestDomain = "ONVM:MANIFEST:V1"

// Errors.
var (
	ErrInvalidManifest = errors.New("invalid program manifest")
	ErrBadSignature    = errors.New("manifest signature does not verify")
	ErrCodeMismatch    = errors.New("program id does not match the code")
)

// Body is the signed content of a manifest.
type Body struct {
	Program      id.Program          `cbor:"1,keyasint"`
	Version      uint64              `cbor:"2,keyasint"`
	Deployer     id.Node             `cbor:"3,keyasint"`
	Entrypoints  []string            `cbor:"4,keyasint"`
	EnvHash      id.Hash             `cbor:"5,keyasint"` // runtime environment (host ABI, meter) the code was prepared for
	CodeBlob     id.Blob             `cbor:"6,keyasint"` // the module as deployed
	CodeSize     int64               `cbor:"7,keyasint"`
	Instrumented id.Blob             `cbor:"8,keyasint"` // the metered module every node runs
	Salt         []byte              `cbor:"9,keyasint"` // ProgramId = BLAKE3(code ‖ salt)
	BlobRefs     []id.Blob           `cbor:"10,keyasint"`
	InitialRoot  id.Hash             `cbor:"11,keyasint"`
	Committee    consensus.Committee `cbor:"12,keyasint"`
	Timestamp    int64               `cbor:"13,keyasint"` // Unix ms at deploy
}

// Manifest is a Body with the deployer's signature.
type Manifest struct {
	Body      Body   `cbor:"1,keyasint"`
	Signature []byte `cbor:"2,keyasint"` // Ed25519 over the signing digest
}

// digest is what the deployer signs: BLAKE3(domain ‖ canonical body).
func (b *Body) digest() id.Hash {
	return id.Sum([]byte(manifestDomain), codec.MustMarshal(b))
}

// Sign returns the manifest of b signed with the deployer's key. The key's
// public half must be b.Deployer.
func Sign(b Body, key ed25519.PrivateKey) (*Manifest, error) {
	pub, ok := key.Public().(ed25519.PublicKey)
	if !ok || id.Node(pub) != b.Deployer {
		return nil, fmt.Errorf("%w: signing key is not the deployer's", ErrInvalidManifest)
	}
	d := b.digest()
	return &Manifest{Body: b, Signature: ed25519.Sign(key, d[:])}, nil
}

// Encode returns the canonical encoding.
func (m *Manifest) Encode() []byte { return codec.MustMarshal(m) }

// ID returns the manifest id: BLAKE3 of the canonical encoding.
func (m *Manifest) ID() id.Hash { return id.Sum(m.Encode()) }

// Decode strictly decodes and verifies a manifest from untrusted bytes.
func Decode(b []byte) (*Manifest, error) {
	if len(b) > MaxManifestSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrInvalidManifest, len(b))
	}
	var m Manifest
	if err := codec.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidManifest, err)
	}
	if err := m.Verify(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Verify checks everything a manifest says that can be checked without its
// code: shape, limits, committee and the deployer's signature.
func (m *Manifest) Verify() error {
	b := &m.Body
	switch {
	case b.Version != ManifestVersion:
		return fmt.Errorf("%w: version %d", ErrInvalidManifest, b.Version)
	case len(b.Entrypoints) == 0 || len(b.Entrypoints) > MaxEntrypoints:
		return fmt.Errorf("%w: %d entrypoints", ErrInvalidManifest, len(b.Entrypoints))
	case len(b.Salt) > MaxSaltSize:
		return fmt.Errorf("%w: salt of %d bytes", ErrInvalidManifest, len(b.Salt))
	case len(b.BlobRefs) > MaxBlobRefs:
		return fmt.Errorf("%w: %d blob refs", ErrInvalidManifest, len(b.BlobRefs))
	case b.CodeSize < 8:
		return fmt.Errorf("%w: code size %d", ErrInvalidManifest, b.CodeSize)
	case b.Committee.Program != b.Program:
		return fmt.Errorf("%w: committee is for %s", ErrInvalidManifest, b.Committee.Program)
	}
	for _, e := range b.Entrypoints {
		if e == "" || len(e) > MaxEntrypointName {
			return fmt.Errorf("%w: entrypoint name %q", ErrInvalidManifest, e)
		}
	}
	if err := b.Committee.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidManifest, err)
	}
	d := b.digest()
	if len(m.Signature) != ed25519.SignatureSize || !ed25519.Verify(ed25519.PublicKey(b.Deployer[:]), d[:], m.Signature) {
		return fmt.Errorf("%w: program %s deployer %s", ErrBadSignature, b.Program, b.Deployer)
	}
	return nil
}

// VerifyCode checks that code is the manifest's code and binds to its
// program id: BLAKE3(code) is CodeBlob and BLAKE3(code ‖ salt) is the
// program id. A manifest whose id does not match its code is rejected
// wherever it came from.
func (m *Manifest) VerifyCode(code []byte) error {
	b := &m.Body
	if int64(len(code)) != b.CodeSize || id.BlobOf(code) != b.CodeBlob {
		return fmt.Errorf("%w: code is not blob %s", ErrCodeMismatch, b.CodeBlob)
	}
	if id.ProgramOf(code, b.Salt) != b.Program {
		return fmt.Errorf("%w: BLAKE3(code ‖ salt) is not %s", ErrCodeMismatch, b.Program)
	}
	return nil
}
