//go:build wasip1

package guest

import "unsafe"

// The host functions of module "env". Pointers are offsets into the
// module's exported memory; Go passes unsafe.Pointer as an i32 offset.

//go:wasmimport env onvm_state_put
func onvmStatePut(key unsafe.Pointer, keyLen uint32, val unsafe.Pointer, valLen uint32) int32

//go:wasmimport env onvm_state_get
func onvmStateGet(key unsafe.Pointer, keyLen uint32, out unsafe.Pointer, outCap uint32) int32

//go:wasmimport env onvm_state_del
func onvmStateDel(key unsafe.Pointer, keyLen uint32) int32

//go:wasmimport env onvm_state_exists
func onvmStateExists(key unsafe.Pointer, keyLen uint32) int32

//go:wasmimport env onvm_state_len
func onvmStateLen(key unsafe.Pointer, keyLen uint32) int64

//go:wasmimport env onvm_state_list
func onvmStateList(prefix unsafe.Pointer, prefixLen uint32, out unsafe.Pointer, outCap uint32) int32

//go:wasmimport env onvm_state_root
func onvmStateRoot(out unsafe.Pointer) int32

//go:wasmimport env onvm_blob_read
func onvmBlobRead(id unsafe.Pointer, idLen uint32, out unsafe.Pointer, outCap uint32) int32

//go:wasmimport env onvm_blob_len
func onvmBlobLen(id unsafe.Pointer, idLen uint32) int64

//go:wasmimport env onvm_blob_hash
func onvmBlobHash(id unsafe.Pointer, idLen uint32, out unsafe.Pointer) int32

//go:wasmimport env onvm_blob_exists
func onvmBlobExists(id unsafe.Pointer, idLen uint32) int32

//go:wasmimport env onvm_blob_addr
func onvmBlobAddr(id unsafe.Pointer, idLen uint32, out unsafe.Pointer) int32

//go:wasmimport env onvm_log
func onvmLog(level int32, msg unsafe.Pointer, msgLen uint32) int32

//go:wasmimport env onvm_now_ms
func onvmNowMs() int64

//go:wasmimport env onvm_random_bytes
func onvmRandomBytes(out unsafe.Pointer, outLen uint32) int32

//go:wasmimport env onvm_crypto_hash
func onvmCryptoHash(algo int32, in unsafe.Pointer, inLen uint32, out unsafe.Pointer, outCap uint32) int32

//go:wasmimport env onvm_crypto_secp256k1_verify
func onvmSecp256k1Verify(msg, sig, pub unsafe.Pointer) int32

//go:wasmimport env onvm_crypto_secp256k1_recover
func onvmSecp256k1Recover(msg, sig, out unsafe.Pointer) int32

// wasmHost is the Host backed by the imports above. Each slice is passed as
// (pointer to its first element, length); the slices stay referenced by the
// caller for the duration of the synchronous host call, and Go's wasm
// garbage collector does not move objects.
type wasmHost struct{}

func ptr(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }
func size(b []byte) uint32        { return uint32(len(b)) }

func (wasmHost) StatePut(k, v []byte) int32 { return onvmStatePut(ptr(k), size(k), ptr(v), size(v)) }
func (wasmHost) StateGet(k, o []byte) int32 { return onvmStateGet(ptr(k), size(k), ptr(o), size(o)) }
func (wasmHost) StateDel(k []byte) int32    { return onvmStateDel(ptr(k), size(k)) }
func (wasmHost) StateExists(k []byte) int32 { return onvmStateExists(ptr(k), size(k)) }
func (wasmHost) StateLen(k []byte) int64    { return onvmStateLen(ptr(k), size(k)) }
func (wasmHost) StateList(p, o []byte) int32 {
	return onvmStateList(ptr(p), size(p), ptr(o), size(o))
}
func (wasmHost) StateRoot(o []byte) int32    { return onvmStateRoot(ptr(o)) }
func (wasmHost) BlobRead(id, o []byte) int32 { return onvmBlobRead(ptr(id), size(id), ptr(o), size(o)) }
func (wasmHost) BlobLen(id []byte) int64     { return onvmBlobLen(ptr(id), size(id)) }
func (wasmHost) BlobHash(id, o []byte) int32 { return onvmBlobHash(ptr(id), size(id), ptr(o)) }
func (wasmHost) BlobExists(id []byte) int32  { return onvmBlobExists(ptr(id), size(id)) }
func (wasmHost) BlobAddr(id, o []byte) int32 { return onvmBlobAddr(ptr(id), size(id), ptr(o)) }
func (wasmHost) Log(l int32, m []byte) int32 { return onvmLog(l, ptr(m), size(m)) }
func (wasmHost) NowMs() int64                { return onvmNowMs() }
func (wasmHost) RandomBytes(o []byte) int32  { return onvmRandomBytes(ptr(o), size(o)) }
func (wasmHost) CryptoHash(a int32, in, o []byte) int32 {
	return onvmCryptoHash(a, ptr(in), size(in), ptr(o), size(o))
}
func (wasmHost) Secp256k1Verify(m, s, p []byte) int32 {
	return onvmSecp256k1Verify(ptr(m), ptr(s), ptr(p))
}
func (wasmHost) Secp256k1Recover(m, s, o []byte) int32 {
	return onvmSecp256k1Recover(ptr(m), ptr(s), ptr(o))
}
