package guest

// HashAlgo selects the digest computed by the host's onvm_crypto_hash.
type HashAlgo int32

// Digest algorithms of onvm_crypto_hash.
const (
	SHA256    HashAlgo = 1 // SHA-256 (FIPS 180-4)
	Keccak256 HashAlgo = 2 // original Keccak-256 (Ethereum), not SHA3-256
)

// Hash returns the digest of data computed by the host, which is cheaper in
// fuel than hashing inside the guest. For BLAKE3 import a Go implementation.
func (c *Context) Hash(algo HashAlgo, data []byte) ([32]byte, error) {
	var d [32]byte
	if rc := c.host.CryptoHash(int32(algo), data, d[:]); rc != 32 {
		return d, hostErr("onvm_crypto_hash", int64(rc))
	}
	return d, nil
}

// Secp256k1Verify reports whether sig (r‖s, 64 bytes; a 65th recovery byte
// is ignored) is a valid ECDSA signature of digest by pub (uncompressed
// X‖Y, 64 bytes, without the 0x04 prefix). Like libsecp256k1 the host
// accepts only low-S signatures. A malformed sig or pub is an error, a
// well-formed signature that does not verify is (false, nil).
func (c *Context) Secp256k1Verify(digest [32]byte, sig [65]byte, pub [64]byte) (bool, error) {
	switch rc := c.host.Secp256k1Verify(digest[:], sig[:], pub[:]); rc {
	case 0:
		return true, nil
	case 1:
		return false, nil
	case -6:
		return false, ErrInvalidSignature
	case -7:
		return false, ErrInvalidPublicKey
	default:
		return false, hostErr("onvm_crypto_secp256k1_verify", int64(rc))
	}
}

// Secp256k1Recover returns the public key (X‖Y, 64 bytes) that produced
// sig over digest; sig[64] is the recovery id (taken mod 4).
func (c *Context) Secp256k1Recover(digest [32]byte, sig [65]byte) ([64]byte, error) {
	var pub [64]byte
	if rc := c.host.Secp256k1Recover(digest[:], sig[:], pub[:]); rc != 0 {
		return pub, hostErr("onvm_crypto_secp256k1_recover", int64(rc))
	}
	return pub, nil
}
