// Package meter is ONVM's deterministic fuel and call-depth instrumentation: it takes a
// WebAssembly module binary and returns an equivalent binary that charges fuel per
// straight-line segment into an exported i64 global, bounds the call depth with an exported
// i32 counter, hands control to the host through the imported onvm_meter.exhausted function
// whenever the fuel falls below an exported checkpoint (at function entries, loop headers and
// at least every MaxUnpolledCost of straight-line code), optionally canonicalises NaN results,
// and traps through the same import when a budget is exceeded.
//
// The checkpoint exists because compiled wasm cannot be preempted by the Go scheduler: the
// host call is where a long-running guest lets the runtime check its deadline and lets a
// stop-the-world pause (a GC) proceed. It never changes the fuel charged.
//
// The runtime must hand wazero only bytes this package's decoder accepted (Instrument's
// output, or bytes Validate accepted), never raw untrusted bytes: the decoder checks every
// count in the module against the bytes present, wazero's decoder does not.
//
// It is a pure function of (bytes, Config): no I/O, no logging, no clocks, no randomness, and
// the same input always yields the same output. It never panics on any input. It does not
// validate the module's types: the engine (wazero) does that when it compiles the output.
// See docs/rationale/meter.md for the cost model and the algorithm.
package meter

import (
	"fmt"
)

// Names and codes shared with the runtime.
const (
	// FuelExport is the exported mutable i64 global holding the REMAINING fuel. The runtime
	// sets it before a call and reads it after; the guest traps at the first segment whose
	// charge makes it negative.
	FuelExport = "onvm_fuel"
	// DepthExport is the exported mutable i32 global holding the current call depth in
	// depth units (see Config.MaxCallDepth); the runtime resets it to 0 before a call.
	DepthExport = "onvm_depth"
	// CheckpointExport is the exported mutable i64 global the guest compares the remaining
	// fuel with at every poll point (function entries, loop headers, and at least every
	// MaxUnpolledCost of straight-line code): below it, the guest calls
	// exhausted(ReasonCheckpoint) and continues if that returns. The runtime sets it to
	// max(0, onvm_fuel − interval) so that the host gets control about every interval units of
	// fuel; as it is never negative, a negative onvm_fuel at a poll point always reaches the
	// host, which must then not return. Its initial value is InitialFuel, so a start function
	// calls the host at its first poll point.
	CheckpointExport = "onvm_checkpoint"
	// ImportModule and ImportFunc name the injected import (param i32) -> (), called with a
	// Reason* code. For ReasonOutOfFuel and ReasonCallDepth the guest executes unreachable
	// right after it: the host should panic to report the reason. For ReasonCheckpoint the host
	// may return, and the guest continues, provided onvm_fuel is not negative (if it is, the
	// call is out of fuel and the host must not return).
	ImportModule = "onvm_meter"
	ImportFunc   = "exhausted"

	ReasonOutOfFuel = 1
	ReasonCallDepth = 2
	// 3 was ReasonInterrupted of onvm-meter/1 (an interrupt flag polled by the guest).
	ReasonCheckpoint = 4
)

// Defaults.
const (
	// DefaultMaxCallDepth is the default depth limit in depth units. Every suspended
	// wasm-to-wasm call costs at least one unit, so the wasm call stack never holds more than
	// MaxCallDepth+2 frames (the running function and a host call on top), below wazero's
	// interpreter ceiling of 2000 frames; the per-frame weight (see ValuesPerDepthUnit) keeps
	// the compiler engine's 50 MB stack ceiling out of reach too.
	DefaultMaxCallDepth = 1000
	// MaxCallDepthLimit is the largest accepted MaxCallDepth: above it wazero's interpreter
	// (2000 frames) could overflow before the meter traps.
	MaxCallDepthLimit = 1990
	// ValuesPerDepthUnit: a function weighs 1 + V/ValuesPerDepthUnit depth units for every
	// frame it suspends in a call, where V = L + I + L*M bounds the 8-byte stack slots an
	// optimising engine may give its frame (L params and locals, I values created by its
	// instructions, M merge points that may each hold a phi per local). MaxCallDepthLimit
	// units then bound the compiler stack by 8*2048*1990 bytes = 33 MB < 50 MB.
	ValuesPerDepthUnit = 2048
	// MaxLocals bounds a function's params plus locals (as wasmtime does). Beyond being
	// absurd for real code, a body can declare 2^32 locals in a few bytes, and engines
	// allocate per declared local.
	MaxLocals = 50_000
	// MaxTableElements caps every table's size: Instrument sets each defined table's maximum
	// to at most this (a table declaring more initially is refused), so table.grow beyond it
	// returns -1 on every engine. table.grow is also charged Costs.TablePerElement per element,
	// but fuel alone would let a call's default budget grow tables by tens of millions of
	// elements (8 bytes each in wazero: 1.5 GiB was measured). Go programs built for wasip1
	// have tables of about 5,000 to 6,000 functions; wasmtime's pooling allocator defaults to
	// 20,000 elements, CosmWasm allows 2,500.
	MaxTableElements = 1 << 16
	// MaxTables bounds the tables of a module, imported and defined (reference types allow
	// several; compilers emit one), so that the tables together hold at most
	// MaxTables*MaxTableElements references (2 MiB in wazero).
	MaxTables = 4
	// MaxUnpolledCost bounds the static cost of the straight-line code between two poll
	// points of a function: a segment leader is made a poll point when the segments since the
	// previous one (in text order) cost at least this much. With function entries and loop
	// headers, this bounds the fuel a guest burns between two polls by MaxUnpolledCost plus
	// one segment per frame it returns through.
	MaxUnpolledCost = 1000
	// DefaultInitialFuel is onvm_fuel's value at instantiation: the budget of the start
	// function, if any (the runtime sets onvm_fuel itself before every call).
	DefaultInitialFuel = 50_000_000
)

// Config selects the cost model and limits. The zero value of each field means its default.
type Config struct {
	// Costs is the fuel cost model; zero fields take their DefaultCosts value.
	Costs Costs
	// MaxCallDepth bounds the call depth in depth units (see SlotsPerDepthUnit).
	// 0 = DefaultMaxCallDepth; must not exceed MaxCallDepthLimit.
	MaxCallDepth uint32
	// CanonicalizeNaN replaces the result of every float operation that can produce a NaN
	// with the canonical positive quiet NaN, making float results bit-identical on every
	// CPU and engine. DefaultConfig turns it on.
	CanonicalizeNaN bool
	// InitialFuel is onvm_fuel's initial value (the start function's budget).
	// 0 = DefaultInitialFuel; negative is invalid.
	InitialFuel int64

	// everyInstruction makes every instruction its own segment (tests compare it with the
	// segment algorithm to prove the latter charges exactly).
	everyInstruction bool
}

// DefaultConfig is the configuration used for consensus executions.
func DefaultConfig() Config {
	return Config{
		Costs:           DefaultCosts(),
		MaxCallDepth:    DefaultMaxCallDepth,
		CanonicalizeNaN: true,
		InitialFuel:     DefaultInitialFuel,
	}
}

// withDefaults fills zero fields and checks the result.
func (c Config) withDefaults() (Config, error) {
	c.Costs = c.Costs.withDefaults()
	if c.MaxCallDepth == 0 {
		c.MaxCallDepth = DefaultMaxCallDepth
	}
	if c.MaxCallDepth > MaxCallDepthLimit {
		return c, fmt.Errorf("%w: MaxCallDepth %d exceeds %d", ErrInvalidConfig, c.MaxCallDepth, MaxCallDepthLimit)
	}
	if c.InitialFuel == 0 {
		c.InitialFuel = DefaultInitialFuel
	}
	if c.InitialFuel < 0 {
		return c, fmt.Errorf("%w: InitialFuel %d is negative", ErrInvalidConfig, c.InitialFuel)
	}
	return c, nil
}

// algorithm names the instrumentation algorithm; bump it whenever the output bytes or the
// fuel charged for any module could change.
const algorithm = "onvm-meter/3"

// Version identifies the instrumentation algorithm and this configuration (after defaults).
// Two configs with the same Version instrument every module identically.
func (c Config) Version() string {
	n, err := c.withDefaults()
	if err != nil {
		return algorithm + ";invalid"
	}
	k := n.Costs
	return fmt.Sprintf("%s;op=%d;membytes=%d;growpage=%d;tableelem=%d;host=%d+%dB;depth=%d/%d;nan=%t;init=%d;poll=%d;tables=%dx%d",
		algorithm, k.Op, k.MemoryBytesPerFuel, k.MemoryGrowPerPage, k.TablePerElement,
		k.HostCall, k.HostBytesPerFuel, n.MaxCallDepth, ValuesPerDepthUnit, n.CanonicalizeNaN, n.InitialFuel, MaxUnpolledCost,
		MaxTables, MaxTableElements)
}

// Version identifies the instrumentation algorithm with DefaultConfig; it goes into the
// program's wasm environment hash.
func Version() string { return DefaultConfig().Version() }
