package wasm

import (
	"math"
	"unicode/utf8"

	"github.com/onvm-network/onvm/internal/id"
	"github.com/tetratelabs/wazero/api"
)

// Blob host functions (notes §5.4). The id argument is either exactly 32 raw
// bytes or text accepted by id.ParseBlob ("blob<hex>" or bare hex; a "prog"
// id is rejected). Id errors: -2 read failure, -3 not UTF-8, -4 parse error.
// Blobs are read from this node only (BlobReader never fetches).

// blobID decodes the id argument, returning 0 or the id error code.
func (s *callState) blobID(mem api.Memory, ptr, n int32) (id.Blob, int32) {
	raw, ok := s.view(mem, ptr, n)
	if !ok {
		return id.Blob{}, -2
	}
	if len(raw) == id.Size {
		return id.Blob(raw), 0
	}
	if !utf8.Valid(raw) {
		return id.Blob{}, -3
	}
	b, err := id.ParseBlob(string(raw))
	if err != nil {
		return id.Blob{}, -4
	}
	return b, 0
}

// stat looks a blob up; a nil BlobReader has no blobs.
func (s *callState) stat(b id.Blob) (int64, bool, error) {
	if s.call.Blobs == nil {
		return 0, false, nil
	}
	return s.call.Blobs.Stat(b)
}

// onvm_blob_addr(id_ptr, id_len, out_ptr) -> 0; writes the 32-byte id;
// -2 read or write failure, -3/-4 id errors.
func blobAddr(s *callState, mem api.Memory, st []uint64) {
	b, code := s.blobID(mem, arg(st, 0), arg(st, 1))
	if code != 0 {
		ret32(st, code)
		return
	}
	if !s.write(mem, arg(st, 2), b[:]) {
		ret32(st, -2)
		return
	}
	ret32(st, 0)
}

// onvm_blob_exists(id_ptr, id_len) -> 1 | 0 | id errors | -6 store error
func blobExists(s *callState, mem api.Memory, st []uint64) {
	b, code := s.blobID(mem, arg(st, 0), arg(st, 1))
	if code != 0 {
		ret32(st, code)
		return
	}
	_, ok, err := s.stat(b)
	switch {
	case err != nil:
		ret32(st, -6)
	case ok:
		ret32(st, 1)
	default:
		ret32(st, 0)
	}
}

// onvm_blob_len(id_ptr, id_len) -> i64 size | -1 unknown | -2 store error
// (and the id errors, where -2 also means the id could not be read).
func blobLen(s *callState, mem api.Memory, st []uint64) {
	b, code := s.blobID(mem, arg(st, 0), arg(st, 1))
	if code != 0 {
		ret64(st, int64(code))
		return
	}
	size, ok, err := s.stat(b)
	switch {
	case err != nil:
		ret64(st, -2)
	case !ok:
		ret64(st, -1)
	default:
		ret64(st, size)
	}
}

// onvm_blob_hash(id_ptr, id_len, out_ptr) -> 0; writes the BLAKE3 of the
// content (which is the blob id itself); -2 not stored here, -3 store
// error, -4 write failure (and the id errors).
func blobHash(s *callState, mem api.Memory, st []uint64) {
	b, code := s.blobID(mem, arg(st, 0), arg(st, 1))
	if code != 0 {
		ret32(st, code)
		return
	}
	_, ok, err := s.stat(b)
	switch {
	case err != nil:
		ret32(st, -3)
	case !ok:
		ret32(st, -2)
	case !s.write(mem, arg(st, 2), b[:]):
		ret32(st, -4)
	default:
		ret32(st, 0)
	}
}

// onvm_blob_read(id_ptr, id_len, out_ptr, out_cap) -> length; the whole
// blob is written at out_ptr; -6 not available or corrupt, -7 larger than
// out_cap (B21, kept: no needed-size report), -8 write failure (and the id
// errors).
func blobRead(s *callState, mem api.Memory, st []uint64) {
	b, code := s.blobID(mem, arg(st, 0), arg(st, 1))
	if code != 0 {
		ret32(st, code)
		return
	}
	outPtr, outCap := arg(st, 2), arg(st, 3)
	size, ok, err := s.stat(b)
	switch {
	case err != nil || !ok || size < 0 || size > math.MaxInt32:
		ret32(st, -6)
		return
	case size > int64(outCap):
		ret32(st, -7)
		return
	case outPtr < 0 || uint64(outPtr)+uint64(size) > uint64(mem.Size()):
		ret32(st, -8)
		return
	}
	s.fuel.charge(bytesCost(uint64(size))) // pay before reading
	data, err := s.call.Blobs.ReadAll(b, size)
	if err != nil || int64(len(data)) != size {
		ret32(st, -6)
		return
	}
	if !mem.Write(uint32(outPtr), data) {
		ret32(st, -8)
		return
	}
	ret32(st, int32(size))
}
