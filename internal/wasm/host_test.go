package wasm

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"github.com/google/go-cmp/cmp"
	"github.com/onvm-network/onvm/internal/id"
)

// Host-call opcodes of testdata/hostcalls.c.
const (
	opPut byte = iota + 1
	opGet
	opDel
	opExists
	opLen
	opList
	opRoot
	opBlobRead
	opBlobLen
	opBlobHash
	opBlobExists
	opBlobAddr
	opLog
	opNow
	opRandom
	opHash
	opVerify
	opRecover
	opCall
	opCallResult
	opCycles
)

// hop is one host call of the hostcalls fixture; rel(n) points into the payload.
type hop struct {
	op   byte
	args []uint32
}

func rel(off int) uint32 { return 0x40000000 + uint32(off) }

const (
	oob    = 0x7ffffff0 // a pointer past any memory the tests give
	negOne = 0xffffffff // -1 as a pointer or length
)

func hostInput(ops []hop, payload []byte) []byte {
	in := []byte{byte(len(ops))}
	for _, o := range ops {
		in = append(in, o.op)
		var args [7]uint32
		copy(args[:], o.args)
		for _, a := range args {
			in = binary.LittleEndian.AppendUint32(in, a)
		}
	}
	return append(in, payload...)
}

// runHost runs ops against the hostcalls fixture and returns each call's
// result and the payload afterwards.
func runHost(t *testing.T, r *Runtime, c Call, ops []hop, payload []byte) ([]int64, []byte, *Result) {
	t.Helper()
	c.Code = fixture(t, "hostcalls")
	c.Entrypoint = "call"
	c.Input = hostInput(ops, payload)
	res, err := r.Run(t.Context(), c)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	results := make([]int64, len(ops))
	for i := range results {
		results[i] = int64(binary.LittleEndian.Uint64(res.Output[8*i:]))
	}
	return results, res.Output[8*len(ops):], res
}

func TestHostFunctions(t *testing.T) {
	key := secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{7}, 32))
	pub := key.PubKey().SerializeUncompressed()[1:]
	digest := sha256.Sum256([]byte("message"))
	compact := ecdsa.SignCompact(key, digest[:], false) // [27+v] r s
	sig := append(append([]byte{}, compact[1:]...), compact[0]-27)
	highS := append([]byte{}, sig...)
	{ // s' = n - s is the same signature with a high S
		var s secp256k1.ModNScalar
		s.SetByteSlice(sig[32:64])
		s.Negate()
		b := s.Bytes()
		copy(highS[32:64], b[:])
	}
	badKey := bytes.Repeat([]byte{1}, 64)
	blob := []byte("the blob's bytes")
	blobID := id.BlobOf(blob)
	keccakEmpty, _ := hex.DecodeString("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
	shaABC := sha256.Sum256([]byte("abc"))

	state := func() *fakeState {
		return &fakeState{kv: map[string][]byte{"a1": []byte("one"), "a2": []byte("two"), "b1": []byte("bee"), "empty": {}}}
	}
	type tc struct {
		name    string
		ops     []hop
		payload []byte
		state   *fakeState
		blobs   *fakeBlobs
		want    []int64
		check   func(t *testing.T, payload []byte, res *Result)
	}
	pad := func(b []byte, n int) []byte { return append(append([]byte{}, b...), make([]byte, n)...) }
	// Payload layouts used below: key at 0, value/out buffers after it.
	cases := []tc{
		{name: "put/ok", payload: []byte("kval"), ops: []hop{{opPut, []uint32{rel(0), 1, rel(1), 3}}}, want: []int64{0},
			check: func(t *testing.T, _ []byte, res *Result) {
				if diff := cmp.Diff([]Write{{Key: []byte("k"), Value: []byte("val")}}, res.Writes); diff != "" {
					t.Error(diff)
				}
			}},
		{name: "put/bad key", payload: []byte("kv"), ops: []hop{
			{opPut, []uint32{rel(0), negOne, rel(1), 1}}, {opPut, []uint32{negOne, 1, rel(1), 1}}, {opPut, []uint32{oob, 1, rel(1), 1}},
		}, want: []int64{-2, -2, -2}},
		{name: "put/bad value", payload: []byte("kv"), ops: []hop{
			{opPut, []uint32{rel(0), 1, rel(1), negOne}}, {opPut, []uint32{rel(0), 1, oob, 1}}, {opPut, []uint32{rel(0), 1, negOne, 1}},
		}, want: []int64{-3, -3, -3}, check: func(t *testing.T, _ []byte, res *Result) {
			if len(res.Writes) != 0 {
				t.Errorf("writes = %v, want none", res.Writes)
			}
		}},
		{name: "get/committed", payload: pad([]byte("a1"), 8), state: state(), ops: []hop{{opGet, []uint32{rel(0), 2, rel(2), 8}}}, want: []int64{3},
			check: func(t *testing.T, p []byte, _ *Result) { wantBytes(t, p[2:5], "one") }},
		{name: "get/missing, empty (B20), staged delete", payload: pad([]byte("zzemptya1"), 8), state: state(), ops: []hop{
			{opGet, []uint32{rel(0), 2, rel(9), 8}}, {opGet, []uint32{rel(2), 5, rel(9), 8}},
			{opDel, []uint32{rel(7), 2}}, {opGet, []uint32{rel(7), 2, rel(9), 8}},
		}, want: []int64{0, 0, 0, 0}},
		{name: "get/staged put wins", payload: pad([]byte("a1NEW"), 8), state: state(), ops: []hop{
			{opPut, []uint32{rel(0), 2, rel(2), 3}}, {opGet, []uint32{rel(0), 2, rel(5), 8}},
		}, want: []int64{0, 3}, check: func(t *testing.T, p []byte, _ *Result) { wantBytes(t, p[5:8], "NEW") }},
		{name: "get/too small, negative cap", payload: pad([]byte("a1"), 8), state: state(), ops: []hop{
			{opGet, []uint32{rel(0), 2, rel(2), 2}}, {opGet, []uint32{rel(0), 2, rel(2), negOne}},
		}, want: []int64{-3, -3}},
		{name: "get/bad key, bad out, store error", payload: pad([]byte("a1"), 8), state: state(), ops: []hop{
			{opGet, []uint32{negOne, 2, rel(2), 8}}, {opGet, []uint32{rel(0), negOne, rel(2), 8}}, {opGet, []uint32{rel(0), 2, oob, 8}},
		}, want: []int64{-2, -2, -4}},
		{name: "get/store error", payload: pad([]byte("a1"), 8), state: &fakeState{fail: true}, ops: []hop{{opGet, []uint32{rel(0), 2, rel(2), 8}}}, want: []int64{-3}},
		{name: "del", payload: []byte("a1"), state: state(), ops: []hop{{opDel, []uint32{rel(0), 2}}, {opDel, []uint32{rel(0), negOne}}}, want: []int64{0, -2},
			check: func(t *testing.T, _ []byte, res *Result) {
				if diff := cmp.Diff([]Write{{Key: []byte("a1"), Delete: true}}, res.Writes); diff != "" {
					t.Error(diff)
				}
			}},
		{name: "exists", payload: []byte("a1zzb1"), state: state(), ops: []hop{
			{opExists, []uint32{rel(0), 2}}, {opExists, []uint32{rel(2), 2}}, {opDel, []uint32{rel(4), 2}}, {opExists, []uint32{rel(4), 2}},
			{opPut, []uint32{rel(2), 2, rel(0), 0}}, {opExists, []uint32{rel(2), 2}}, {opExists, []uint32{negOne, 2}},
		}, want: []int64{1, 0, 0, 0, 0, 1, -2}},
		{name: "exists/store error", payload: []byte("a1"), state: &fakeState{fail: true}, ops: []hop{{opExists, []uint32{rel(0), 2}}}, want: []int64{-3}},
		{name: "len", payload: []byte("a1zzemptyb1"), state: state(), ops: []hop{
			{opLen, []uint32{rel(0), 2}}, {opLen, []uint32{rel(2), 2}}, {opLen, []uint32{rel(4), 5}},
			{opDel, []uint32{rel(9), 2}}, {opLen, []uint32{rel(9), 2}}, {opLen, []uint32{rel(0), negOne}},
		}, want: []int64{3, -1, 0, 0, -1, -2}},
		{name: "len/store error", payload: []byte("a1"), state: &fakeState{fail: true}, ops: []hop{{opLen, []uint32{rel(0), 2}}}, want: []int64{-3}},
		{name: "list", payload: pad([]byte("aa1a3x"), 64), state: state(), ops: []hop{
			{opDel, []uint32{rel(1), 2}}, {opPut, []uint32{rel(3), 2, rel(5), 1}},
			{opList, []uint32{rel(0), 1, rel(6), 64}}, {opList, []uint32{rel(0), 1, rel(6), 3}},
			{opList, []uint32{rel(0), 1, oob, 64}}, {opList, []uint32{negOne, 1, rel(6), 64}},
		}, want: []int64{0, 0, 12, -12, -4, -2}, check: func(t *testing.T, p []byte, _ *Result) {
			wantBytes(t, p[6:18], "\x02\x00\x00\x00a2\x02\x00\x00\x00a3")
		}},
		{name: "list/store error", payload: pad([]byte("a"), 8), state: &fakeState{fail: true}, ops: []hop{{opList, []uint32{rel(0), 1, rel(1), 8}}}, want: []int64{-3}},
		{name: "root", payload: pad([]byte("kv"), 32), state: state(), ops: []hop{
			{opPut, []uint32{rel(0), 1, rel(1), 1}}, {opRoot, []uint32{rel(2)}}, {opRoot, []uint32{oob}},
		}, want: []int64{0, 0, -3}, check: func(t *testing.T, p []byte, _ *Result) {
			want, _ := state().Root([]Write{{Key: []byte("k"), Value: []byte("v")}})
			wantBytes(t, p[2:34], string(want[:]))
		}},
		{name: "root/no state, store error", payload: make([]byte, 32), ops: []hop{{opRoot, []uint32{rel(0)}}}, want: []int64{-2}},
		{name: "root/store error", payload: make([]byte, 32), state: &fakeState{fail: true}, ops: []hop{{opRoot, []uint32{rel(0)}}}, want: []int64{-2}},

		{name: "blob/addr", payload: pad(append(append(blobID[:], blobID.String()...), "prog"+hex.EncodeToString(blobID[:])+"\xff\xfe"...), 40), ops: []hop{
			{opBlobAddr, []uint32{rel(0), 32, rel(174)}},
			{opBlobAddr, []uint32{rel(32), 68, rel(174)}},
			{opBlobAddr, []uint32{rel(36), 64, rel(174)}},
			{opBlobAddr, []uint32{rel(100), 68, rel(174)}},
			{opBlobAddr, []uint32{rel(168), 2, rel(174)}},
			{opBlobAddr, []uint32{negOne, 32, rel(174)}},
			{opBlobAddr, []uint32{rel(0), 32, oob}},
		}, want: []int64{0, 0, 0, -4, -3, -2, -2}, check: func(t *testing.T, p []byte, _ *Result) { wantBytes(t, p[174:206], string(blobID[:])) }},
		{name: "blob/exists,len,hash", payload: pad(concat(blobID[:], make([]byte, 32)), 32), blobs: newFakeBlobs(blob), ops: []hop{
			{opBlobExists, []uint32{rel(0), 32}}, {opBlobExists, []uint32{rel(32), 32}},
			{opBlobLen, []uint32{rel(0), 32}}, {opBlobLen, []uint32{rel(32), 32}},
			{opBlobHash, []uint32{rel(0), 32, rel(64)}}, {opBlobHash, []uint32{rel(32), 32, rel(64)}}, {opBlobHash, []uint32{rel(0), 32, oob}},
			{opBlobExists, []uint32{rel(0), 5}}, {opBlobLen, []uint32{rel(40), 5}},
		}, want: []int64{1, 0, int64(len(blob)), -1, 0, -2, -4, -3, -4}, check: func(t *testing.T, p []byte, _ *Result) { wantBytes(t, p[64:96], string(blobID[:])) }},
		{name: "blob/store errors", payload: blobID[:], blobs: &fakeBlobs{fail: true}, ops: []hop{
			{opBlobExists, []uint32{rel(0), 32}}, {opBlobLen, []uint32{rel(0), 32}}, {opBlobHash, []uint32{rel(0), 32, rel(0)}}, {opBlobRead, []uint32{rel(0), 32, rel(0), 32}},
		}, want: []int64{-6, -2, -3, -6}},
		{name: "blob/read", payload: pad(blobID[:], 64), blobs: newFakeBlobs(blob), ops: []hop{
			{opBlobRead, []uint32{rel(0), 32, rel(32), 64}}, {opBlobRead, []uint32{rel(0), 32, rel(32), 4}},
			{opBlobRead, []uint32{rel(0), 32, rel(32), negOne}}, {opBlobRead, []uint32{rel(0), 32, oob, 64}},
			{opBlobRead, []uint32{rel(32), 32, rel(32), 64}},
		}, want: []int64{int64(len(blob)), -7, -7, -8, -6}, check: func(t *testing.T, p []byte, _ *Result) { wantBytes(t, p[32:32+len(blob)], string(blob)) }},
		{name: "blob/read corrupt", payload: pad(blobID[:], 64), blobs: &fakeBlobs{m: newFakeBlobs(blob).m, corrupt: true}, ops: []hop{
			{opBlobRead, []uint32{rel(0), 32, rel(32), 64}},
		}, want: []int64{-6}},

		{name: "log", payload: []byte("hello\xff"), ops: []hop{
			{opLog, []uint32{0, rel(0), 5}}, {opLog, []uint32{3, rel(0), 5}}, {opLog, []uint32{4, rel(0), 5}}, {opLog, []uint32{negOne, rel(0), 5}},
			{opLog, []uint32{2, rel(0), 6}}, {opLog, []uint32{2, rel(0), negOne}}, {opLog, []uint32{2, oob, 5}},
		}, want: []int64{0, 0, -4, -4, -3, -2, -2}, check: func(t *testing.T, _ []byte, res *Result) {
			want := []Log{{SourceGuest, LevelTrace, "hello"}, {SourceGuest, LevelWarn, "hello"}}
			if diff := cmp.Diff(want, res.Logs); diff != "" {
				t.Error(diff)
			}
		}},
		{name: "now", ops: []hop{{opNow, nil}}, want: []int64{1_700_000_000_123}},
		{name: "random", payload: make([]byte, 16), ops: []hop{
			{opRandom, []uint32{rel(0), 16}}, {opRandom, []uint32{rel(0), negOne}}, {opRandom, []uint32{oob, 16}}, {opRandom, []uint32{rel(0), 0}},
		}, want: []int64{0, -2, -3, 0}, check: func(t *testing.T, p []byte, _ *Result) {
			want := make([]byte, 16)
			newRNG([32]byte{9}).Read(want)
			wantBytes(t, p, string(want))
		}},
		{name: "hash", payload: pad([]byte("abc"), 32), ops: []hop{
			{opHash, []uint32{1, rel(0), 3, rel(3), 32}}, {opHash, []uint32{2, rel(0), 0, rel(3), 32}},
			{opHash, []uint32{1, rel(0), 3, rel(3), 31}}, {opHash, []uint32{3, rel(0), 3, rel(3), 32}},
			{opHash, []uint32{1, rel(0), negOne, rel(3), 32}}, {opHash, []uint32{1, oob, 3, rel(3), 32}}, {opHash, []uint32{1, rel(0), 3, oob, 32}},
		}, want: []int64{32, 32, -32, -3, -2, -2, -4}, check: func(t *testing.T, p []byte, _ *Result) { wantBytes(t, p[3:35], string(keccakEmpty)) }},
		{name: "hash/sha256", payload: pad([]byte("abc"), 32), ops: []hop{{opHash, []uint32{1, rel(0), 3, rel(3), 32}}}, want: []int64{32},
			check: func(t *testing.T, p []byte, _ *Result) { wantBytes(t, p[3:35], string(shaABC[:])) }},
		{name: "secp256k1/verify", payload: concat(digest[:], sig, pub, highS, badKey, []byte("x")), ops: []hop{
			{opVerify, []uint32{rel(0), rel(32), rel(97)}},
			{opVerify, []uint32{rel(1), rel(32), rel(97)}},
			{opVerify, []uint32{rel(0), rel(161), rel(97)}},
			{opVerify, []uint32{rel(0), rel(32), rel(226)}},
			{opVerify, []uint32{rel(0), rel(97), rel(97)}}, // r‖s from the key bytes: not a signature of this digest... or malformed
			{opVerify, []uint32{oob, rel(32), rel(97)}},
			{opVerify, []uint32{rel(0), oob, rel(97)}},
			{opVerify, []uint32{rel(0), rel(32), oob}},
			{opVerify, []uint32{rel(0), rel(290), rel(97)}}, // r = s = 0
		}, want: []int64{0, 1, 1, -7, 1, -5, -6, -7, -6}},
		{name: "secp256k1/recover", payload: concat(digest[:], sig, make([]byte, 64), make([]byte, 65)), ops: []hop{
			{opRecover, []uint32{rel(0), rel(32), rel(97)}},
			{opRecover, []uint32{oob, rel(32), rel(97)}},
			{opRecover, []uint32{rel(0), oob, rel(97)}},
			{opRecover, []uint32{rel(0), rel(161), rel(97)}},
			{opRecover, []uint32{rel(0), rel(32), oob}},
		}, want: []int64{0, -4, -5, -6, -8}, check: func(t *testing.T, p []byte, _ *Result) { wantBytes(t, p[97:161], string(pub)) }},
		{name: "call stubs", payload: make([]byte, 64), ops: []hop{
			{opCall, []uint32{rel(0), 32, rel(0), 1, rel(0), 1, rel(0)}}, {opCallResult, []uint32{rel(0), rel(0), 8}}, {opCycles, nil},
		}, want: []int64{-9, -9, 0}},
	}
	for _, eng := range engines {
		r := newTestRuntime(t, eng.interpreter)
		for _, c := range cases {
			t.Run(eng.name+"/"+c.name, func(t *testing.T) {
				call := Call{Timestamp: 1_700_000_000_123, RequestID: [32]byte{9}}
				if c.state != nil {
					call.State = c.state
				}
				if c.blobs != nil {
					call.Blobs = c.blobs
				}
				got, payload, res := runHost(t, r, call, c.ops, c.payload)
				if diff := cmp.Diff(c.want, got); diff != "" {
					t.Errorf("results (-want +got):\n%s", diff)
				}
				if c.check != nil {
					c.check(t, payload, res)
				}
			})
		}
	}
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func wantBytes(t *testing.T, got []byte, want string) {
	t.Helper()
	if string(got) != want {
		t.Errorf("bytes = %x, want %x", got, want)
	}
}
