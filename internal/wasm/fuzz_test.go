package wasm

import (
	"context"
	"errors"
	"testing"
	"time"
)

// FuzzHostCalls drives every env host function with arbitrary arguments
// (through the hostcalls fixture): whatever the guest passes, a call ends
// in a result or a typed error, never a host panic.
func FuzzHostCalls(f *testing.F) {
	f.Add(hostInput([]hop{{opPut, []uint32{rel(0), 1, rel(1), 1}}}, []byte("kv")))
	f.Add(hostInput([]hop{{opList, []uint32{rel(0), 0, rel(0), negOne}}, {opBlobRead, []uint32{rel(0), 32, oob, 1 << 30}}}, make([]byte, 40)))
	f.Add(hostInput([]hop{{opVerify, []uint32{rel(0), rel(0), rel(0)}}, {opRecover, []uint32{rel(0), rel(0), rel(0)}}}, make([]byte, 70)))
	f.Add(hostInput([]hop{{opHash, []uint32{2, 0, 1 << 20, 0, 32}}, {opRandom, []uint32{0, 1 << 16}}, {opLog, []uint32{1, 0, 1 << 12}}}, nil))
	r, err := New(context.Background(), Config{})
	if err != nil {
		f.Fatal(err)
	}
	defer r.Close(context.Background())
	code := fixture(f, "hostcalls")
	blob := []byte("blob")
	f.Fuzz(func(t *testing.T, input []byte) {
		res, err := r.Run(context.Background(), Call{
			Code: code, Entrypoint: "call", Input: input, Fuel: 5_000_000, Timeout: 5 * time.Second,
			State: &fakeState{kv: map[string][]byte{"k": []byte("v")}}, Blobs: newFakeBlobs(blob),
		})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Kind == 0 || res != nil {
				t.Fatalf("Run = %v, %v", res, err)
			}
		}
	})
}

// FuzzPrepareRun deploys and runs arbitrary modules: Prepare accepts or
// rejects them, and a call of an accepted one ends in a result or a typed
// error under small limits.
func FuzzPrepareRun(f *testing.F) {
	for _, name := range []string{"echo_multi", "echo_sret", "alloc", "limits", "msort"} {
		f.Add(rawFixture(f, name), "run")
	}
	f.Add(rawFixture(f, "limits"), "recurse")
	f.Add(rawFixture(f, "limits"), "bomb")
	r, err := New(context.Background(), Config{})
	if err != nil {
		f.Fatal(err)
	}
	defer r.Close(context.Background())
	f.Fuzz(func(t *testing.T, wasm []byte, entry string) {
		code, err := Prepare(wasm)
		if err != nil {
			if !errors.Is(err, ErrInvalidModule) {
				t.Fatalf("Prepare: %v", err)
			}
			return
		}
		res, err := r.Run(context.Background(), Call{Code: code, Entrypoint: entry, Input: []byte("fuzz"), Fuel: 1_000_000, MemoryLimit: 4 << 20, Timeout: 2 * time.Second})
		if err != nil && (KindOf(err) == 0 || res != nil) {
			t.Fatalf("Run = %v, %v", res, err)
		}
	})
}
