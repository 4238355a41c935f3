package wasm

// Fuel charged by the host, on top of what the meter charges for the guest's
// own instructions. Every env and WASI host call pays CostHostCall; the
// functions listed in hostCosts pay their extra base cost too; every byte a
// host function copies into or out of guest memory (and every byte of input
// and output the runtime copies) pays CostByte; hashing pays CostHashByte per
// input byte instead. The numbers were chosen so that one unit of fuel is
// roughly one simple wasm instruction (≈ 0.5–1 ns on the compiler engine);
// docs/rationale/runtime.md lists them and their reasons. They are part of
// EnvHash: changing any of them changes the env hash.
const (
	CostHostCall       = 100     // every host call (env, onvm_meter excluded, WASI)
	CostByte           = 1       // per byte copied between guest memory and the host
	CostHashByte       = 4       // per byte hashed by onvm_crypto_hash (replaces CostByte)
	CostStateRead      = 1_000   // onvm_state_get/exists/len: one store lookup
	CostStateWrite     = 500     // onvm_state_put/del: stage one overlay entry
	CostStateListKey   = 100     // onvm_state_list: per key returned
	CostStateRoot      = 5_000   // onvm_state_root: base
	CostStateRootWrite = 20_000  // onvm_state_root: per staged write (256 hashes each)
	CostBlobMeta       = 1_000   // onvm_blob_exists/len/hash: one metadata lookup
	CostBlobRead       = 5_000   // onvm_blob_read: base, plus CostByte per byte read
	CostSecpVerify     = 60_000  // onvm_crypto_secp256k1_verify
	CostSecpRecover    = 80_000  // onvm_crypto_secp256k1_recover
	CostPollSub        = 100     // WASI poll_oneoff: per subscription
	CostLogEntry       = 100     // onvm_log and each captured stdout/stderr line
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
