// Package guest is the Go SDK for writing ONVM programs: WebAssembly modules
// built with GOOS=wasip1 GOARCH=wasm -buildmode=c-shared that a node runs
// deterministically.
//
// A program registers one [Handler] from an init function; main stays empty,
// because a c-shared (reactor) module never runs it:
//
//	package main
//
//	import "github.com/onvm-network/onvm/guest"
//
//	func main() {}
//
//	func init() {
//		guest.Handle(func(ctx *guest.Context, input []byte) ([]byte, error) {
//			if err := ctx.State.Put([]byte("last"), input); err != nil {
//				return nil, err // aborts the call; nothing is written
//			}
//			return bytes.ToUpper(input), nil
//		})
//	}
//
// Built for wasip1, the package exports the module's entrypoint `onvm_main`
// (packed convention: (i32 ptr, i32 len) -> i64 with the output pointer in the
// high 32 bits and its length in the low 32) and `onvm_alloc`, which the
// node calls to obtain the buffer it writes the input into. It imports the
// host functions from module "env" (see [Host]). A program can export more
// entrypoints with its own //go:wasmexport functions that call Invoke
// (wasip1 builds only).
//
// The handler's output is the call's result. A non-nil error aborts the
// call: the SDK writes "onvm: <error>" to stderr and exits with code 1
// (WASI proc_exit), which the node reports as a trap and which discards
// every state write the call staged. A program that wants to report a
// failure to its caller while keeping its writes returns an ordinary output
// (for example a JSON error object) and a nil error.
//
// Goroutines a handler starts run only while an export is executing: the
// module is idle between calls, so a handler must finish its work before
// returning. Every call should be treated as running in a fresh instance.
//
// On any other platform the host functions are absent: [Context] values come
// from [NewContext], which package guesttest uses to run handlers against an
// in-memory host, so program logic is testable with plain `go test`.
//
// The package must not hold state across calls beyond the output buffer of
// the last call, and must not use any source of non-determinism of its own.
package guest
