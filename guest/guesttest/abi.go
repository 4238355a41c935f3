package guesttest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/sha3"

	"github.com/onvm-network/onvm/guest"
	"github.com/onvm-network/onvm/internal/id"
)

// abi implements guest.Host on a Host with the node's return codes.
type abi struct{ h *Host }

// get returns the value of key as the call sees it (staged first).
// The caller holds h.mu.
func (a abi) get(key []byte) ([]byte, bool) {
	if v, ok := a.h.staged[string(key)]; ok {
		return v, v != nil
	}
	v, ok := a.h.state[string(key)]
	return v, ok
}

func (a abi) set(key, value []byte) {
	if a.h.staged != nil {
		a.h.staged[string(key)] = value
		return
	}
	if value == nil {
		delete(a.h.state, string(key))
	} else {
		a.h.state[string(key)] = value
	}
}

// keys returns the visible keys, sorted bytewise. The caller holds h.mu.
func (a abi) keys() []string {
	var ks []string
	for k := range a.h.state {
		if v, ok := a.h.staged[k]; !ok || v != nil {
			ks = append(ks, k)
		}
	}
	for k, v := range a.h.staged {
		if _, ok := a.h.state[k]; !ok && v != nil {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	return ks
}

func (a abi) lock() func() { a.h.mu.Lock(); return a.h.mu.Unlock }

func (a abi) StatePut(key, value []byte) int32 {
	defer a.lock()()
	a.set(key, bytes.Clone(nonNil(value)))
	return 0
}

func (a abi) StateGet(key, out []byte) int32 {
	defer a.lock()()
	v, ok := a.get(key)
	switch {
	case !ok || len(v) == 0:
		return 0
	case len(v) > len(out):
		return -int32(len(v))
	default:
		return int32(copy(out, v))
	}
}

func (a abi) StateDel(key []byte) int32 {
	defer a.lock()()
	a.set(key, nil)
	return 0
}

func (a abi) StateExists(key []byte) int32 {
	defer a.lock()()
	if _, ok := a.get(key); ok {
		return 1
	}
	return 0
}

func (a abi) StateLen(key []byte) int64 {
	defer a.lock()()
	v, ok := a.get(key)
	if !ok {
		return -1
	}
	return int64(len(v))
}

func (a abi) StateList(prefix, out []byte) int32 {
	defer a.lock()()
	var enc []byte
	for _, k := range a.keys() {
		if strings.HasPrefix(k, string(prefix)) {
			enc = binary.LittleEndian.AppendUint32(enc, uint32(len(k)))
			enc = append(enc, k...)
		}
	}
	if len(enc) > len(out) {
		return -int32(len(enc))
	}
	return int32(copy(out, enc))
}

func (a abi) StateRoot(out []byte) int32 {
	defer a.lock()()
	pairs := make(map[string][]byte)
	for _, k := range a.keys() {
		pairs[k], _ = a.get([]byte(k))
	}
	root := Root(pairs)
	copy(out, root[:])
	return 0
}

// blobID resolves an id argument the way the node does: 32 raw bytes or
// UTF-8 text; -3 not UTF-8, -4 unparsable.
func blobID(b []byte) (id.Blob, int32) {
	if len(b) == 32 {
		return id.Blob(b), 0
	}
	if !utf8.Valid(b) {
		return id.Blob{}, -3
	}
	blob, err := id.ParseBlob(string(b))
	if err != nil {
		return id.Blob{}, -4
	}
	return blob, 0
}

func (a abi) BlobRead(idb, out []byte) int32 {
	defer a.lock()()
	b, rc := blobID(idb)
	if rc != 0 {
		return rc
	}
	data, ok := a.h.blobs[b]
	switch {
	case !ok:
		return -6
	case len(data) > len(out):
		return -7
	default:
		return int32(copy(out, data))
	}
}

func (a abi) BlobLen(idb []byte) int64 {
	defer a.lock()()
	b, rc := blobID(idb)
	if rc != 0 {
		return -1
	}
	data, ok := a.h.blobs[b]
	if !ok {
		return -1
	}
	return int64(len(data))
}

func (a abi) BlobHash(idb, out []byte) int32 {
	defer a.lock()()
	b, rc := blobID(idb)
	if rc != 0 {
		return rc
	}
	if _, ok := a.h.blobs[b]; !ok {
		return -2
	}
	copy(out, b[:]) // a blob's id is the BLAKE3 of its content
	return 0
}

func (a abi) BlobExists(idb []byte) int32 {
	defer a.lock()()
	b, rc := blobID(idb)
	if rc != 0 {
		return 0
	}
	if _, ok := a.h.blobs[b]; ok {
		return 1
	}
	return 0
}

func (a abi) BlobAddr(idb, out []byte) int32 {
	b, rc := blobID(idb)
	if rc != 0 {
		return rc
	}
	copy(out, b[:])
	return 0
}

func (a abi) Log(level int32, msg []byte) int32 {
	defer a.lock()()
	if level < 0 || level > 3 {
		return -4
	}
	if !utf8.Valid(msg) {
		return -3
	}
	a.h.logs = append(a.h.logs, Entry{Level: guest.Level(level), Msg: string(msg)})
	return 0
}

func (a abi) NowMs() int64 {
	defer a.lock()()
	return a.h.nowMs
}

func (a abi) RandomBytes(out []byte) int32 {
	defer a.lock()()
	_, _ = a.h.rng.Read(out)
	return 0
}

func (a abi) CryptoHash(algo int32, in, out []byte) int32 {
	var d []byte
	switch algo {
	case 1:
		s := sha256.Sum256(in)
		d = s[:]
	case 2:
		k := sha3.NewLegacyKeccak256()
		k.Write(in)
		d = k.Sum(nil)
	default:
		return -3
	}
	if len(out) < 32 {
		return -32
	}
	return int32(copy(out, d))
}
