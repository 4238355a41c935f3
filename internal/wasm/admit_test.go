package wasm

import (
	"encoding/hex"
	"runtime"
	"testing"
)

// untrustedBombs are inputs that make wazero's decoder allocate what a count
// field says before checking it against the bytes present.
var untrustedBombs = []struct {
	name string
	wasm []byte
}{
	// A type declaring 1.1 billion parameters, in 17 bytes: wazero allocates 8.8 GB for it
	// (measured under ulimit -v: "cannot allocate 8829009920-byte block"), and Check did
	// hand it to wazero before it had a gate.
	{"billion params", mustHex("0061736d0100000001070160ed9c998e04")},
	// The meter fuzzer's finding it comes from (meter/testdata/fuzz/FuzzInstrument/60b07a3747f20ba3):
	// 154 bytes, the same type, then bytes that do not frame as sections.
	{"billion params, fuzzer finding", mustHex("0061736d01000000012e0960ed9c998e046c41b9e0006a2101200041016b21000c000b0b20010b7203017f027c017d430000c03f210402400340200120004f0d012001b844fca9f1d24d62503fa22102200320029f20022002a244000000000000e03fa244000000000000f03fa0a3a021803f94430000803e934300004040962104200141016a21010c000b0b20032004bba00b0c002000be72")},
	// A body declaring 2^32-1 locals in six bytes; wazero allocates a byte per local.
	{"4 billion locals", mustHex("0061736d01000000010401600000030201000a0a010801ffffffff0f7f0b")},
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// TestUntrustedBytesBoundedMemory: Check, Prepare and Run refuse the inputs
// that make wazero's decoder allocate gigabytes, allocating little: they
// hand wazero only bytes the meter's bounded decoder accepted (admit).
func TestUntrustedBytesBoundedMemory(t *testing.T) {
	const limit = 64 << 20
	r := sharedRuntime(t)
	for _, b := range untrustedBombs {
		for _, path := range []struct {
			name string
			run  func() error
		}{
			{"Check", func() error { _, err := Check(b.wasm, "run"); return err }},
			{"Prepare", func() error { _, err := Prepare(b.wasm); return err }},
			{"Run", func() error { _, err := r.Run(t.Context(), Call{Code: b.wasm, Entrypoint: "run"}); return err }},
		} {
			t.Run(b.name+"/"+path.name, func(t *testing.T) {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				err := path.run()
				runtime.ReadMemStats(&after)
				if KindOf(err) != KindInvalidModule {
					t.Errorf("err = %v, want invalid_module", err)
				}
				if d := after.TotalAlloc - before.TotalAlloc; d > limit {
					t.Errorf("allocated %d MiB, want < %d MiB", d>>20, limit>>20)
				}
			})
		}
	}
}
