// Package wasm runs untrusted WebAssembly programs deterministically on
// wazero: it validates modules against the host ABI (Check, Prepare), keeps
// compiled modules in a bounded cache, and executes one call at a time per
// instance (Runtime.Run) under fuel, memory, input, output, log and
// wall-clock limits.
//
// Every result that can reach consensus — output, fuel used, writes, logs,
// error kind — is a pure function of the instrumented module, the Call's
// inputs (input bytes, fuel, memory limit, logical timestamp, request id)
// and the committed state and blobs it reads. Wall-clock time, the host
// environment, files and the host's randomness are never visible to a guest.
//
// The package must not commit state (writes are returned as an overlay),
// must not fetch blobs from the network, must not speak HTTP and must not
// let a guest fault panic the host.
package wasm
