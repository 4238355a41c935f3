package wasm

import (
	"crypto/sha256"
	"unicode/utf8"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"github.com/tetratelabs/wazero/api"
	"golang.org/x/crypto/sha3"
)

// onvm_log(level, msg_ptr, msg_len) -> 0 | -2 read failure | -3 not UTF-8 | -4 bad level
func hostLog(s *callState, mem api.Memory, st []uint64) {
	level := arg(st, 0)
	if level < int32(LevelTrace) || level > int32(LevelWarn) {
		ret32(st, -4)
		return
	}
	msg, ok := s.view(mem, arg(st, 1), arg(st, 2))
	if !ok {
		ret32(st, -2)
		return
	}
	if !utf8.Valid(msg) {
		ret32(st, -3)
		return
	}
	s.logs.add(SourceGuest, LogLevel(level), msg)
	if LogLevel(level) == LevelWarn {
		s.lastWarn = append(s.lastWarn[:0], msg...)
	}
	ret32(st, 0)
}

// onvm_now_ms() -> the call's logical timestamp (Unix ms). Deterministic: it
// is an input of the call (B27).
func nowMs(s *callState, _ api.Memory, st []uint64) {
	ret64(st, s.call.Timestamp)
}

// onvm_random_bytes(out_ptr, out_len) -> 0 | -2 out_len < 0 | -3 write failure.
// The bytes come from the call's ChaCha8 stream seeded by the request id.
func randomBytes(s *callState, mem api.Memory, st []uint64) {
	ptr, n := arg(st, 0), arg(st, 1)
	if n < 0 {
		ret32(st, -2)
		return
	}
	if ptr < 0 || uint64(ptr)+uint64(n) > uint64(mem.Size()) {
		ret32(st, -3)
		return
	}
	buf := make([]byte, n)
	_, _ = s.rng.Read(buf)
	if !s.write(mem, ptr, buf) {
		ret32(st, -3)
		return
	}
	ret32(st, 0)
}

// Hash algorithms of onvm_crypto_hash.
const (
	hashSHA256    = 1
	hashKeccak256 = 2 // the original Keccak (Ethereum), not SHA3-256
)

// onvm_crypto_hash(algo, in_ptr, in_len, out_ptr, out_cap) -> 32 | -32 if
// out_cap < 32 | -2 read failure | -3 unknown algo | -4 write failure.
func cryptoHash(s *callState, mem api.Memory, st []uint64) {
	algo := arg(st, 0)
	if algo != hashSHA256 && algo != hashKeccak256 {
		ret32(st, -3)
		return
	}
	inPtr, inLen := arg(st, 1), arg(st, 2)
	if inPtr < 0 || inLen < 0 {
		ret32(st, -2)
		return
	}
	in, ok := mem.Read(uint32(inPtr), uint32(inLen))
	if !ok {
		ret32(st, -2)
		return
	}
	if arg(st, 4) < 32 {
		ret32(st, -32)
		return
	}
	s.fuel.charge(uint64(inLen) * CostHashByte)
	var sum []byte
	if algo == hashSHA256 {
		h := sha256.Sum256(in)
		sum = h[:]
	} else {
		h := sha3.NewLegacyKeccak256()
		h.Write(in)
		sum = h.Sum(nil)
	}
	if !s.write(mem, arg(st, 3), sum) {
		ret32(st, -4)
		return
	}
	ret32(st, 32)
}

// onvm_crypto_secp256k1_verify(msg32_ptr, sig65_ptr, pubkey64_ptr) -> 0 valid
// | 1 invalid | -5 digest unreadable | -6 signature unreadable or malformed
// | -7 key unreadable or not on the curve. The signature is r‖s (byte 64 is
// ignored); like libsecp256k1 (the original's backend) a high-S signature
// is invalid. The key is the 64 bytes x‖y of an uncompressed point.
func secpVerify(s *callState, mem api.Memory, st []uint64) {
	digest, ok := s.view(mem, arg(st, 0), 32)
	if !ok {
		ret32(st, -5)
		return
	}
	sigBytes, ok := s.view(mem, arg(st, 1), 65)
	if !ok {
		ret32(st, -6)
		return
	}
	var r, sv secp256k1.ModNScalar
	if r.SetByteSlice(sigBytes[:32]) || sv.SetByteSlice(sigBytes[32:64]) || r.IsZero() || sv.IsZero() {
		ret32(st, -6)
		return
	}
	keyBytes, ok := s.view(mem, arg(st, 2), 64)
	if !ok {
		ret32(st, -7)
		return
	}
	key, err := secp256k1.ParsePubKey(append([]byte{0x04}, keyBytes...))
	if err != nil {
		ret32(st, -7)
		return
	}
	if sv.IsOverHalfOrder() || !ecdsa.NewSignature(&r, &sv).Verify(digest, key) {
		ret32(st, 1)
		return
	}
	ret32(st, 0)
}

// onvm_crypto_secp256k1_recover(msg32_ptr, sig65_ptr, out_pubkey64_ptr) -> 0;
// writes x‖y of the recovered key; recovery id = sig[64] mod 4.
// -4 digest unreadable, -5 signature unreadable, -6 malformed r or s,
// -7 no key recovers, -8 write failure.
func secpRecover(s *callState, mem api.Memory, st []uint64) {
	digest, ok := s.view(mem, arg(st, 0), 32)
	if !ok {
		ret32(st, -4)
		return
	}
	sigBytes, ok := s.view(mem, arg(st, 1), 65)
	if !ok {
		ret32(st, -5)
		return
	}
	var r, sv secp256k1.ModNScalar
	if r.SetByteSlice(sigBytes[:32]) || sv.SetByteSlice(sigBytes[32:64]) || r.IsZero() || sv.IsZero() {
		ret32(st, -6)
		return
	}
	compact := make([]byte, 65)
	compact[0] = 27 + sigBytes[64]%4
	copy(compact[1:], sigBytes[:64])
	key, _, err := ecdsa.RecoverCompact(compact, digest)
	if err != nil {
		ret32(st, -7)
		return
	}
	if !s.write(mem, arg(st, 2), key.SerializeUncompressed()[1:]) {
		ret32(st, -8)
		return
	}
	ret32(st, 0)
}

// onvm_call and onvm_call_result return -9 ("no message queue"), as the
// original always did; program-to-program calls arrive with orchestration.
func callUnavailable(_ *callState, _ api.Memory, st []uint64) { ret32(st, -9) }

// onvm_msg_cycles_available() -> 0, as in the original.
func cyclesAvailable(_ *callState, _ api.Memory, st []uint64) { ret64(st, 0) }
