package guest

// Host is the node's host ABI (module "env") with Go slices in place of
// (pointer, length) pairs. Every method returns the host function's return
// code unchanged; the SDK's [State], [Blobs] and [Context] methods interpret
// them. Programs never implement Host: on wasip1 the SDK binds it to the
// imported functions, and package guesttest provides an in-memory one.
//
// Fixed-size arguments (32-byte digests, 65-byte signatures, 64-byte public
// keys) are passed as slices of exactly that length.
type Host interface {
	// onvm_state_put(key_ptr, key_len, val_ptr, val_len) -> i32: 0 ok.
	// A call's staged writes are bounded (on a node: 1 MiB, counting key +
	// value + 32 bytes per key written, the last write of a key only); the
	// put or delete that would pass the bound does not return: the call
	// ends with the error kind writes_too_large and nothing is written.
	StatePut(key, value []byte) int32
	// onvm_state_get(key_ptr, key_len, out_ptr, out_cap) -> i32: the value
	// length; 0 if missing or empty; -needed if out is too small.
	StateGet(key, out []byte) int32
	// onvm_state_del(key_ptr, key_len) -> i32: 0.
	StateDel(key []byte) int32
	// onvm_state_exists(key_ptr, key_len) -> i32: 1 or 0.
	StateExists(key []byte) int32
	// onvm_state_len(key_ptr, key_len) -> i64: the length; -1 if missing.
	StateLen(key []byte) int64
	// onvm_state_list(prefix_ptr, prefix_len, out_ptr, out_cap) -> i32: the
	// encoded length of the sorted keys ([u32 LE len][key]...); -total if out
	// is too small.
	StateList(prefix, out []byte) int32
	// onvm_state_root(out_ptr) -> i32: 0 ok; writes 32 bytes.
	StateRoot(out []byte) int32

	// onvm_blob_read(id_ptr, id_len, out_ptr, out_cap) -> i32: the length;
	// -6 unavailable; -7 out too small.
	BlobRead(id, out []byte) int32
	// onvm_blob_len(id_ptr, id_len) -> i64: the length; -1 unknown.
	BlobLen(id []byte) int64
	// onvm_blob_hash(id_ptr, id_len, out_ptr) -> i32: 0 ok; -2 unknown.
	BlobHash(id, out []byte) int32
	// onvm_blob_exists(id_ptr, id_len) -> i32: 1 or 0.
	BlobExists(id []byte) int32
	// onvm_blob_addr(id_ptr, id_len, out_ptr) -> i32: 0 ok; -4 bad id.
	BlobAddr(id, out []byte) int32

	// onvm_log(level, msg_ptr, msg_len) -> i32: 0 ok.
	Log(level int32, msg []byte) int32
	// onvm_now_ms() -> i64: the call's logical timestamp in Unix ms.
	NowMs() int64
	// onvm_random_bytes(out_ptr, out_len) -> i32: 0 ok.
	RandomBytes(out []byte) int32
	// onvm_crypto_hash(algo, in_ptr, in_len, out_ptr, out_cap) -> i32: 32.
	CryptoHash(algo int32, in, out []byte) int32
	// onvm_crypto_secp256k1_verify(msg32_ptr, sig65_ptr, pubkey64_ptr) ->
	// i32: 0 valid, 1 invalid.
	Secp256k1Verify(msg, sig, pub []byte) int32
	// onvm_crypto_secp256k1_recover(msg32_ptr, sig65_ptr, out64_ptr) -> i32:
	// 0 ok.
	Secp256k1Recover(msg, sig, out []byte) int32
}
