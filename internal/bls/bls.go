// Package bls is ONVM's BLS12-381 signature scheme: the min_sig variant
// (48-byte signatures in G1, 96-byte public keys in G2) over
// github.com/supranational/blst, the library the original used.
//
// Public keys and signatures are fixed-size byte arrays holding the
// compressed points, so they encode directly into canonical CBOR and JSON;
// every function that uses one decompresses it and checks it is a valid
// point of the right subgroup first, so bytes from a peer can be passed in
// as they are. Aggregation is only safe for keys whose holders proved
// possession (Prove / VerifyPossession): the committee registry checks a
// proof before it admits a key.
//
// The package does no I/O; key storage is internal/identity's concern.
package bls

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"

	blst "github.com/supranational/blst/bindings/go"
)

// Sizes of the encodings.
const (
	SecretKeySize = 32
	PublicKeySize = 96
	SignatureSize = 48
)

// Domain separation tags. Every message signed under one tag is a different
// message from the same bytes signed under another.
var (
	// DSTPossession signs a key's own public key as proof of possession.
	DSTPossession = []byte("ONVM:POP:V1")
	// DSTBallot signs a committee member's prevote or precommit.
	DSTBallot = []byte("ONVM:BALLOT:V1")
	// DSTProposal signs a committee leader's proposal.
	DSTProposal = []byte("ONVM:PROPOSAL:V1")
)

// Errors.
var (
	ErrInvalidKey       = errors.New("bls: invalid key")
	ErrInvalidSignature = errors.New("bls: invalid signature")
)

// SecretKey is a BLS secret scalar. The zero value is not usable.
type SecretKey struct {
	sk *blst.SecretKey
	pk PublicKey
}

// PublicKey is a compressed G2 point.
type PublicKey [PublicKeySize]byte

// Signature is a compressed G1 point.
type Signature [SignatureSize]byte

// GenerateKey derives a key from 32 bytes of r (crypto/rand when nil).
func GenerateKey(r io.Reader) (*SecretKey, error) {
	if r == nil {
		r = rand.Reader
	}
	ikm := make([]byte, 32)
	if _, err := io.ReadFull(r, ikm); err != nil {
		return nil, fmt.Errorf("bls: read key material: %w", err)
	}
	sk := blst.KeyGen(ikm)
	if sk == nil {
		return nil, fmt.Errorf("%w: key generation failed", ErrInvalidKey)
	}
	return newSecretKey(sk), nil
}

// SecretKeyFromBytes parses a 32-byte big-endian secret scalar.
func SecretKeyFromBytes(b []byte) (*SecretKey, error) {
	if len(b) != SecretKeySize {
		return nil, fmt.Errorf("%w: secret key is %d bytes, want %d", ErrInvalidKey, len(b), SecretKeySize)
	}
	sk := new(blst.SecretKey).Deserialize(b)
	if sk == nil || !sk.Valid() {
		return nil, fmt.Errorf("%w: secret key out of range", ErrInvalidKey)
	}
	return newSecretKey(sk), nil
}

func newSecretKey(sk *blst.SecretKey) *SecretKey {
	var pk PublicKey
	copy(pk[:], new(blst.P2Affine).From(sk).Compress())
	return &SecretKey{sk: sk, pk: pk}
}

// Bytes returns the 32-byte secret scalar. Handle with care.
func (k *SecretKey) Bytes() []byte { return k.sk.Serialize() }

// PublicKey returns the key's public half.
func (k *SecretKey) PublicKey() PublicKey { return k.pk }

// Sign signs msg under the domain separation tag dst.
func (k *SecretKey) Sign(dst, msg []byte) Signature {
	var s Signature
	copy(s[:], new(blst.P1Affine).Sign(k.sk, msg, dst).Compress())
	return s
}

// Prove returns the key's proof of possession: its public key signed under
// DSTPossession.
func (k *SecretKey) Prove() Signature { return k.Sign(DSTPossession, k.pk[:]) }

// PublicKeyFromBytes parses and validates a compressed public key.
func PublicKeyFromBytes(b []byte) (PublicKey, error) {
	var pk PublicKey
	if len(b) != PublicKeySize {
		return pk, fmt.Errorf("%w: public key is %d bytes, want %d", ErrInvalidKey, len(b), PublicKeySize)
	}
	copy(pk[:], b)
	if _, err := pk.point(); err != nil {
		return PublicKey{}, err
	}
	return pk, nil
}

// point decompresses pk and checks it is a non-infinity point of G2's
// prime-order subgroup.
func (pk PublicKey) point() (*blst.P2Affine, error) {
	keyCache.mu.RLock()
	p, ok := keyCache.m[pk]
	keyCache.mu.RUnlock()
	if ok {
		return p, nil
	}
	p = new(blst.P2Affine).Uncompress(pk[:])
	if p == nil || !p.KeyValidate() {
		return nil, ErrInvalidKey
	}
	keyCache.mu.Lock()
	if len(keyCache.m) >= maxCachedKeys {
		clear(keyCache.m)
	}
	keyCache.m[pk] = p
	keyCache.mu.Unlock()
	return p, nil
}

// maxCachedKeys bounds the decoded public keys kept.
const maxCachedKeys = 4096

// keyCache caches decoded, validated public keys. Decompressing a G2 point and
// checking that it is in the subgroup costs a large part of a signature
// check, and a node checks the same few committee keys over and over. The
// points are never modified after they are stored.
var keyCache = struct {
	mu sync.RWMutex
	m  map[PublicKey]*blst.P2Affine
}{m: make(map[PublicKey]*blst.P2Affine)}

// String returns the hex encoding.
func (pk PublicKey) String() string { return hex.EncodeToString(pk[:]) }

// MarshalText implements encoding.TextMarshaler (hex).
func (pk PublicKey) MarshalText() ([]byte, error) { return []byte(pk.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (hex); the key is validated.
func (pk *PublicKey) UnmarshalText(t []byte) error {
	b, err := hex.DecodeString(string(t))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	v, err := PublicKeyFromBytes(b)
	if err != nil {
		return err
	}
	*pk = v
	return nil
}

// SignatureFromBytes copies a compressed signature; it is validated when used.
func SignatureFromBytes(b []byte) (Signature, error) {
	var s Signature
	if len(b) != SignatureSize {
		return s, fmt.Errorf("%w: signature is %d bytes, want %d", ErrInvalidSignature, len(b), SignatureSize)
	}
	copy(s[:], b)
	return s, nil
}

func (s Signature) point() (*blst.P1Affine, error) {
	p := new(blst.P1Affine).Uncompress(s[:])
	if p == nil || !p.SigValidate(true) {
		return nil, ErrInvalidSignature
	}
	return p, nil
}

// String returns the hex encoding.
func (s Signature) String() string { return hex.EncodeToString(s[:]) }

// MarshalText implements encoding.TextMarshaler (hex).
func (s Signature) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (hex).
func (s *Signature) UnmarshalText(t []byte) error {
	b, err := hex.DecodeString(string(t))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidSignature, err)
	}
	v, err := SignatureFromBytes(b)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Verify reports whether sig is pk's signature of msg under dst.
func Verify(pk PublicKey, dst, msg []byte, sig Signature) bool {
	p, err := pk.point()
	if err != nil {
		return false
	}
	s, err := sig.point()
	if err != nil {
		return false
	}
	return s.Verify(false, p, false, msg, dst)
}

// VerifyPossession reports whether pop proves possession of pk's secret.
func VerifyPossession(pk PublicKey, pop Signature) bool {
	return Verify(pk, DSTPossession, pk[:], pop)
}

// Aggregate combines signatures of the same message by different keys.
func Aggregate(sigs []Signature) (Signature, error) {
	if len(sigs) == 0 {
		return Signature{}, fmt.Errorf("%w: nothing to aggregate", ErrInvalidSignature)
	}
	points := make([]*blst.P1Affine, len(sigs))
	for i, s := range sigs {
		p, err := s.point()
		if err != nil {
			return Signature{}, fmt.Errorf("signature %d: %w", i, err)
		}
		points[i] = p
	}
	var agg blst.P1Aggregate
	if !agg.Aggregate(points, false) {
		return Signature{}, fmt.Errorf("%w: aggregation failed", ErrInvalidSignature)
	}
	var out Signature
	copy(out[:], agg.ToAffine().Compress())
	return out, nil
}

// FastAggregateVerify reports whether agg is the aggregate of every key in
// pks signing msg under dst. The keys must have proven possession.
func FastAggregateVerify(pks []PublicKey, dst, msg []byte, agg Signature) bool {
	if len(pks) == 0 {
		return false
	}
	points := make([]*blst.P2Affine, len(pks))
	for i, pk := range pks {
		p, err := pk.point()
		if err != nil {
			return false
		}
		points[i] = p
	}
	s, err := agg.point()
	if err != nil {
		return false
	}
	return s.FastAggregateVerify(false, points, msg, dst)
}

// AggregatePublicKeys combines public keys: the key under which the
// aggregate of their signatures of one message verifies. The keys must
// have proven possession.
func AggregatePublicKeys(pks []PublicKey) (PublicKey, error) {
	if len(pks) == 0 {
		return PublicKey{}, fmt.Errorf("%w: no keys to aggregate", ErrInvalidKey)
	}
	keys := make([][]byte, len(pks))
	for i := range pks {
		keys[i] = pks[i][:]
	}
	var agg blst.P2Aggregate
	if !agg.AggregateCompressed(keys, true) {
		return PublicKey{}, fmt.Errorf("%w: a key is not a valid point", ErrInvalidKey)
	}
	var out PublicKey
	copy(out[:], agg.ToAffine().Compress())
	return out, nil
}
