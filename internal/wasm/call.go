package wasm

import (
	"math"
	"time"

	"github.com/onvm-network/onvm/internal/id"
)

// Defaults and ceilings of a Call. The defaults that change results (fuel,
// memory, output, logs) are part of EnvHash.
const (
	DefaultFuel        = 50_000_000       // Call.Fuel when zero
	DefaultMemoryLimit = 64 << 20         // Call.MemoryLimit when zero (bytes)
	MaxMemoryLimit     = 2 << 30          // ceiling: host ABI pointers are non-negative i32
	DefaultMaxInput    = 1 << 20          // Call.MaxInput when zero
	DefaultMaxOutput   = 1 << 20          // Call.MaxOutput when zero
	DefaultTimeout     = 30 * time.Second // Call.Timeout when zero
	MaxLogBytes        = 64 << 10         // logs kept per call (message bytes + 16 per entry)
	maxLogLine         = 4 << 10          // a captured stdout/stderr line longer than this is split
	pageSize           = 65536
)

// StateReader is the committed state of the executing program, as the state
// store provides it. Implementations must be safe for use by one goroutine
// at a time and must not retain the slices passed to them.
type StateReader interface {
	// Get returns the committed value of key.
	Get(key []byte) (value []byte, ok bool, err error)
	// List returns the committed keys starting with prefix, sorted bytewise.
	List(prefix []byte) (keys [][]byte, err error)
	// Root returns the sparse-Merkle root of committed state ⊕ overlay
	// (overlay is key-sorted, one entry per key).
	Root(overlay []Write) (id.Hash, error)
}

// BlobReader gives read access to blobs stored on this node. It must never
// fetch from the network: a guest's view must not depend on timing.
type BlobReader interface {
	// Stat returns the size of blob b, or ok=false when it is not stored here.
	Stat(b id.Blob) (size int64, ok bool, err error)
	// ReadAll returns the verified bytes of b, failing if it is larger than max.
	ReadAll(b id.Blob, max int64) ([]byte, error)
}

// Write is one staged state change: a put of Value, or a delete.
type Write struct {
	Key    []byte `json:"key"`
	Value  []byte `json:"value,omitempty"`
	Delete bool   `json:"delete,omitempty"`
}

// LogLevel is the level of a guest log entry (the onvm_log levels).
type LogLevel uint8

// Log levels accepted by onvm_log. Captured stdout is LevelInfo, stderr LevelWarn.
const (
	LevelTrace LogLevel = 0
	LevelDebug LogLevel = 1
	LevelInfo  LogLevel = 2
	LevelWarn  LogLevel = 3
)

// Log sources.
const (
	SourceGuest  = "guest"  // onvm_log
	SourceStdout = "stdout" // WASI fd 1, one entry per line
	SourceStderr = "stderr" // WASI fd 2, one entry per line
	SourceHost   = "host"   // notes from the runtime (e.g. "log truncated")
)

// Log is one entry of a call's log, in the order the guest produced it.
type Log struct {
	Source  string   `json:"source"`
	Level   LogLevel `json:"level"`
	Message string   `json:"message"`
}

// Call is one execution request. Zero values select the documented defaults.
type Call struct {
	Code        []byte        // instrumented module, as returned by Prepare
	CodeHash    id.Hash       // cache key for Code; zero = id.Sum(Code)
	Entrypoint  string        // exported function to call
	Input       []byte        // passed to the entrypoint as (ptr, len)
	Fuel        uint64        // fuel budget; 0 = DefaultFuel; at most math.MaxInt64
	MemoryLimit uint64        // linear memory ceiling in bytes, rounded down to 64 KiB pages; 0 = DefaultMemoryLimit; at most MaxMemoryLimit
	MaxInput    int           // 0 = DefaultMaxInput
	MaxOutput   int           // 0 = DefaultMaxOutput
	Timestamp   int64         // logical time (Unix ms): onvm_now_ms and the WASI clocks derive from it
	RequestID   [32]byte      // seeds onvm_random_bytes and WASI random_get
	State       StateReader   // nil = empty state (onvm_state_root then fails with -2)
	Blobs       BlobReader    // nil = no blobs
	Timeout     time.Duration // wall-clock limit; 0 = DefaultTimeout; negative = none (context only)
	// MaxWriteSet bounds the call's staged state writes: the WriteSetSize
	// of the overlay (last write per key) may not exceed it, and the write
	// that would make it exceed it stops the call with KindWritesTooLarge.
	// 0 or negative = no limit: the runtime commits nothing, the caller
	// that commits the writes sets it (chain.Limits.MaxWriteSet).
	MaxWriteSet int

	unmetered bool                // tests only: run code that was not instrumented
	inspect   func(memory []byte) // tests only: sees linear memory after the entrypoint returned
}

// Result is the outcome of a successful call.
type Result struct {
	Output   []byte  `json:"output"`
	FuelUsed uint64  `json:"fuel_used"`
	Writes   []Write `json:"writes,omitempty"` // staged writes, sorted by key, one per key
	Logs     []Log   `json:"logs,omitempty"`
}

func (c *Call) withDefaults() Call {
	d := *c
	if d.Fuel == 0 {
		d.Fuel = DefaultFuel
	}
	d.Fuel = min(d.Fuel, math.MaxInt64) // the fuel global is an i64
	if d.MemoryLimit == 0 {
		d.MemoryLimit = DefaultMemoryLimit
	}
	d.MemoryLimit = min(d.MemoryLimit, MaxMemoryLimit) &^ (pageSize - 1)
	if d.MaxInput <= 0 {
		d.MaxInput = DefaultMaxInput
	}
	if d.MaxOutput <= 0 {
		d.MaxOutput = DefaultMaxOutput
	}
	if d.Timeout == 0 {
		d.Timeout = DefaultTimeout
	}
	if d.CodeHash.IsZero() {
		d.CodeHash = id.Sum(d.Code)
	}
	return d
}
