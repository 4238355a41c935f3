package guesttest

import (
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// Secp256k1Verify follows libsecp256k1, which the original host used:
// r or s not below the group order is a malformed signature (-6), a
// high-S or otherwise wrong signature is invalid (1).
func (a abi) Secp256k1Verify(msg, sig, pub []byte) int32 {
	var r, s secp256k1.ModNScalar
	if r.SetByteSlice(sig[:32]) || s.SetByteSlice(sig[32:64]) {
		return -6
	}
	key, err := secp256k1.ParsePubKey(append([]byte{0x04}, pub[:64]...))
	if err != nil {
		return -7
	}
	if s.IsOverHalfOrder() || !ecdsa.NewSignature(&r, &s).Verify(msg[:32], key) {
		return 1
	}
	return 0
}

// Secp256k1Recover recovers with recovery id sig[64] mod 4; -6 for a
// malformed signature, -8 when no key recovers.
func (a abi) Secp256k1Recover(msg, sig, out []byte) int32 {
	var r, s secp256k1.ModNScalar
	if r.SetByteSlice(sig[:32]) || s.SetByteSlice(sig[32:64]) {
		return -6
	}
	compact := make([]byte, 65)
	compact[0] = 27 + sig[64]%4
	copy(compact[1:], sig[:64])
	key, _, err := ecdsa.RecoverCompact(compact, msg[:32])
	if err != nil {
		return -8
	}
	copy(out, key.SerializeUncompressed()[1:])
	return 0
}

// Sign returns a 65-byte recoverable signature (r‖s‖recovery id) of digest
// by the secp256k1 private key priv, and the signer's 64-byte public key,
// for tests of programs that verify signatures.
func Sign(priv [32]byte, digest [32]byte) (sig [65]byte, pub [64]byte) {
	key := secp256k1.PrivKeyFromBytes(priv[:])
	c := ecdsa.SignCompact(key, digest[:], false)
	copy(sig[:64], c[1:])
	sig[64] = c[0] - 27
	copy(pub[:], key.PubKey().SerializeUncompressed()[1:])
	return sig, pub
}
