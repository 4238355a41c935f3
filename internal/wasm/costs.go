package wasm

// Fuel charged by the host, on top of what the meter charges for the guest's
// own instructions (one unit per simple instruction, see the meter's Costs).
// Every env and WASI host call pays CostHostCall; the functions listed in
// hostCosts pay their extra base cost too; moving n bytes between guest
// memory and the host (host-call arguments and results, the input, the
// output, captured stdout/stderr, random bytes) pays ceil(n/CostBytesPerFuel),
// the rate of the meter's memory.copy; staging a state write pays
// CostStateWriteByte per key and value byte on top (it is kept in host
// memory until the call ends); hashing pays CostHashByte per input byte.
// docs/rationale/runtime.md gives the reasons. All of them are part of
// EnvHash.
const (
	CostHostCall       = 100    // every host call (env and WASI; not onvm_meter.exhausted) = meter Costs.HostCall
	CostBytesPerFuel   = 16     // bytes moved per unit of fuel = meter Costs.HostBytesPerFuel
	CostStateWriteByte = 1      // onvm_state_put: per key and value byte staged
	CostHashByte       = 4      // onvm_crypto_hash: per input byte
	CostStateRead      = 1_000  // onvm_state_get/exists/len: one store lookup
	CostStateWrite     = 500    // onvm_state_put/del: stage one overlay entry
	CostStateListKey   = 100    // onvm_state_list: per key returned
	CostStateRoot      = 5_000  // onvm_state_root: base
	CostStateRootWrite = 20_000 // onvm_state_root: per staged write (256 hashes each)
	CostBlobMeta       = 1_000  // onvm_blob_exists/len/hash: one metadata lookup
	CostBlobRead       = 5_000  // onvm_blob_read: base, plus the bytes moved
	CostSecpVerify     = 60_000 // onvm_crypto_secp256k1_verify
	CostSecpRecover    = 80_000 // onvm_crypto_secp256k1_recover
	CostPollSub        = 100    // WASI poll_oneoff: per subscription
	CostLogEntry       = 100    // onvm_log and each captured stdout/stderr line
)

// hostCosts is the extra per-call base cost of each env function, beyond
// CostHostCall. Functions not listed pay only CostHostCall plus bytes.
var hostCosts = map[string]uint64{
	"onvm_state_get":                CostStateRead,
	"onvm_state_exists":             CostStateRead,
	"onvm_state_len":                CostStateRead,
	"onvm_state_put":                CostStateWrite,
	"onvm_state_del":                CostStateWrite,
	"onvm_state_list":               CostStateRead,
	"onvm_state_root":               CostStateRoot,
	"onvm_blob_exists":              CostBlobMeta,
	"onvm_blob_len":                 CostBlobMeta,
	"onvm_blob_hash":                CostBlobMeta,
	"onvm_blob_read":                CostBlobRead,
	"onvm_log":                      CostLogEntry,
	"onvm_crypto_secp256k1_verify":  CostSecpVerify,
	"onvm_crypto_secp256k1_recover": CostSecpRecover,
}

// bytesCost is the fuel for moving n bytes across the guest boundary.
func bytesCost(n uint64) uint64 { return (n + CostBytesPerFuel - 1) / CostBytesPerFuel }
