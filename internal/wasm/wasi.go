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
	lctx := experimental.WithFunctionListenerFactory(ctx, experimental.FunctionListenerFactoryFunc(
		func(def api.FunctionDefinition) experimental.FunctionListener {
			if def.Name() == "poll_oneoff" {
				return poll
			}
			return charge
		}))
	if _, err := wasi_snapshot_preview1.Instantiate(lctx, r); err != nil {
		return fmt.Errorf("instantiate host module %s: %w", WASIModule, err)
	}
	return nil
}

// sandbox returns the module configuration of one call: no arguments, no
// environment variables (S1), no files or preopens, stdin empty,
// stdout/stderr captured into the call's log, clocks derived from the
// logical timestamp, sleeping and yielding instantaneous, randomness from
// the request-id-seeded stream.
func (s *callState) sandbox(base wazero.ModuleConfig) wazero.ModuleConfig {
	return base.
		WithStdout(&s.stdout).
		WithStderr(&s.stderr).
		WithRandSource(randReader{s}).
		WithWalltime(s.walltime, 1).
		WithNanotime(s.nanotime, 1).
		WithNanosleep(s.nanosleep).
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
