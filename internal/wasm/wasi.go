package wasm

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/onvm-network/onvm/internal/id"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// WASIModule is the import module of WASI preview 1.
const WASIModule = wasi_snapshot_preview1.ModuleName

// clockTick is how far logical time advances on every clock read, so that a
// guest polling a clock in a loop sees it move (deterministically).
const clockTick = 1000 // ns

// instantiateWASI links wazero's WASI preview 1 into r. A function listener
// charges fuel for every WASI call (CostHostCall, plus CostPollSub per
// poll_oneoff subscription); bytes written to stdout/stderr and random bytes
// are charged by the per-call writers and reader.
func instantiateWASI(ctx context.Context, r wazero.Runtime) error {
	charge := experimental.FunctionListenerFunc(func(ctx context.Context, _ api.Module, _ api.FunctionDefinition, _ []uint64, _ experimental.StackIterator) {
		stateOf(ctx).fuel.charge(CostHostCall)
	})
	poll := experimental.FunctionListenerFunc(func(ctx context.Context, _ api.Module, _ api.FunctionDefinition, params []uint64, _ experimental.StackIterator) {
		stateOf(ctx).fuel.charge(CostHostCall + CostPollSub*uint64(api.DecodeU32(params[2])))
	})
	other := experimental.FunctionListenerFunc(func(ctx context.Context, _ api.Module, _ api.FunctionDefinition, _ []uint64, _ experimental.StackIterator) {
		s := stateOf(ctx)
		s.wasiState = true
		s.fuel.charge(CostHostCall)
	})
	lctx := experimental.WithFunctionListenerFactory(ctx, experimental.FunctionListenerFactoryFunc(
		func(def api.FunctionDefinition) experimental.FunctionListener {
			switch {
			case def.Name() == "poll_oneoff":
				return poll
			case wasiStateless[def.Name()]:
				return charge
			}
			return other
		}))
	if _, err := wasi_snapshot_preview1.Instantiate(lctx, r); err != nil {
		return fmt.Errorf("instantiate host module %s: %w", WASIModule, err)
	}
	return nil
}

// wasiStateless are the WASI functions that cannot change an instance's
// WASI state (its file descriptor table) in this sandbox. An instance in
// which anything else was called (fd_close, fd_renumber, a failed path_open,
// ...) is never reused for another call (pool.go).
var wasiStateless = map[string]bool{
	"args_get": true, "args_sizes_get": true, "environ_get": true, "environ_sizes_get": true,
	"clock_res_get": true, "clock_time_get": true, "random_get": true, "sched_yield": true,
	"fd_read": true, "fd_write": true, "fd_fdstat_get": true, "fd_prestat_get": true,
}

// binding is how an instance's WASI configuration reaches the call using
// the instance: a reused instance (pool.go) serves successive calls, each
// with its own call state.
type binding struct{ s *callState }

type bindOut struct {
	b      *binding
	stderr bool
}

func (w bindOut) Write(p []byte) (int, error) {
	if w.stderr {
		return w.b.s.stderr.Write(p)
	}
	return w.b.s.stdout.Write(p)
}

func (b *binding) Read(p []byte) (int, error)        { return randReader{b.s}.Read(p) }
func (b *binding) walltime() (sec int64, nsec int32) { return b.s.walltime() }
func (b *binding) nanotime() int64                   { return b.s.nanotime() }
func (b *binding) nanosleep(ns int64)                { b.s.nanosleep(ns) }

// sandbox returns the module configuration of an instance: no arguments, no
// environment variables (S1), no files or preopens, stdin empty,
// stdout/stderr captured into the call's log, clocks derived from the
// logical timestamp, sleeping and yielding instantaneous, randomness from
// the request-id-seeded stream — all of the call b is bound to.
func (b *binding) sandbox(base wazero.ModuleConfig) wazero.ModuleConfig {
	return base.
		WithStdout(bindOut{b, false}).
		WithStderr(bindOut{b, true}).
		WithRandSource(b).
		WithWalltime(b.walltime, 1).
		WithNanotime(b.nanotime, 1).
		WithNanosleep(b.nanosleep).
		WithOsyield(func() {})
}

// walltime is the logical timestamp plus the logical time elapsed in the call.
func (s *callState) walltime() (sec int64, nsec int32) {
	s.elapsed += clockTick
	t := s.call.Timestamp*1_000_000 + s.elapsed
	return t / 1e9, int32(t % 1e9)
}

// nanotime is the logical time elapsed in the call (never zero).
func (s *callState) nanotime() int64 {
	s.elapsed += clockTick
	return s.elapsed
}

// nanosleep advances logical time by ns without sleeping.
func (s *callState) nanosleep(ns int64) {
	if ns > 0 {
		s.elapsed += ns
	}
}

// randReader is the WASI random source: the call's ChaCha8 stream, charged
// per byte.
type randReader struct{ s *callState }

func (r randReader) Read(p []byte) (int, error) {
	r.s.fuel.charge(bytesCost(uint64(len(p))))
	return r.s.rng.Read(p)
}

// randomSeed derives the call's PRNG key from its request id.
func randomSeed(requestID [32]byte) [32]byte {
	return [32]byte(id.Sum([]byte("onvm/wasm/random/v1"), requestID[:]))
}

func newRNG(requestID [32]byte) *rand.ChaCha8 { return rand.NewChaCha8(randomSeed(requestID)) }
