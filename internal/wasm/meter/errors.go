package meter

import (
	"errors"

	"github.com/onvm-network/onvm/internal/wasm/meter/wasmbin"
)

var (
	// ErrInvalidModule reports input that is not a well-formed WebAssembly module.
	ErrInvalidModule = wasmbin.ErrMalformed
	// ErrUnsupported reports a well-formed module using a feature ONVM refuses for consensus
	// executions (SIMD, threads, tail calls, exceptions, GC, multi-memory, memory64, ...).
	ErrUnsupported = wasmbin.ErrUnsupported
	// ErrAlreadyInstrumented reports a module that already imports onvm_meter or exports
	// onvm_fuel / onvm_depth: instrumenting twice is refused rather than metering twice.
	ErrAlreadyInstrumented = errors.New("module is already instrumented")
	// ErrInvalidConfig reports a Config that cannot be honoured.
	ErrInvalidConfig = errors.New("invalid meter config")
)
