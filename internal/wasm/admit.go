package wasm

import (
	"fmt"

	"github.com/onvm-network/onvm/internal/wasm/meter"
	"github.com/onvm-network/onvm/internal/wasm/meter/wasmbin"
)

// admit is the gate every byte slice passes before wazero sees it (Check,
// Prepare and Run all compile through validate or Runtime.compile, which
// call it). wazero's decoder allocates whatever a count field says before
// checking it against the bytes present: a 154-byte module declaring a
// billion parameters makes it allocate ~8 GB, and a body can declare 2^32
// locals in six bytes. So the module must be at most MaxCodeSize bytes and
// pass the meter's bounded decoder (meter.Validate: every count checked
// against the bytes present, locals capped, every body decoded).
func admit(wasm []byte) error {
	if len(wasm) > MaxCodeSize {
		return fmt.Errorf("module is %d bytes, the limit is %d", len(wasm), MaxCodeSize)
	}
	return meter.Validate(wasm)
}

// hasStart reports whether wasm, which admit accepted, has a start section.
func hasStart(wasm []byte) bool {
	m, err := wasmbin.Decode(wasm)
	return err != nil || m.Find(wasmbin.SecStart) >= 0
}
