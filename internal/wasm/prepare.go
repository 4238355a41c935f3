package wasm

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/wasm/meter"
)

// Prepare validates a module for deployment (Check without an entrypoint),
// instruments it with the meter's default configuration and validates the
// result. It runs once, at deploy; the instrumented bytes are what every
// node stores and runs, so every node executes identical code.
func Prepare(wasm []byte) ([]byte, error) { return PrepareEntry(context.Background(), wasm, "") }

// PrepareEntry is Check(wasm, entrypoint) and Prepare(wasm) in one: a deploy
// (and a peer verifying one) decodes, instruments and validates the module
// once, and the instrumented module once, instead of doing Check's work
// twice. When entrypoint is empty it is Prepare. At most
// DefaultCompileConcurrency preparations run at once in the process; the
// others wait for one to end, or for ctx.
func PrepareEntry(ctx context.Context, wasm []byte, entrypoint string) ([]byte, error) {
	release, err := slot(ctx)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	defer release()
	rep, out := check(wasm, entrypoint)
	if err := rep.err(); err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	// The instrumented code is what nodes will run: a meter bug must fail
	// the deploy, not the first execution.
	if _, err := validate(out); err != nil {
		return nil, fmt.Errorf("prepare: instrumented module does not validate: %w", &Error{Kind: KindInvalidModule, Message: firstLine(err), cause: err})
	}
	return out, nil
}

// wazeroVersion is the engine version, part of EnvHash (its WASI
// implementation is guest-visible). A test checks it against the build.
const wazeroVersion = "v1.12.0"

// envVersion names this package's host behaviour; bump it whenever a host
// function, calling convention, default or sandbox rule changes a result.
const envVersion = "onvm-wasm-env/2"

// EnvHash identifies everything besides the module and the call's inputs
// that determines a call's result: the host ABI and its costs, the meter
// version, the engine's features, the defaults and ceilings, and the WASI
// sandbox. Manifests record it; nodes refuse to co-sign results computed
// under a different one.
func EnvHash() id.Hash { return envHash() }

var envHash = sync.OnceValue(func() id.Hash { return id.Sum([]byte(envDescription())) })

// envDescription is the canonical text EnvHash hashes.
func envDescription() string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("%s", envVersion)
	line("meter %s", meter.Version())
	line("engine wazero %s features %#x", wazeroVersion, uint64(coreFeatures))
	line("defaults fuel=%d memory=%d maxmemory=%d output=%d logs=%d logline=%d",
		DefaultFuel, DefaultMemoryLimit, MaxMemoryLimit, DefaultMaxOutput, MaxLogBytes, maxLogLine)
	line("costs hostcall=%d bytesperfuel=%d statewritebyte=%d hashbyte=%d listkey=%d rootwrite=%d pollsub=%d logentry=%d",
		CostHostCall, CostBytesPerFuel, CostStateWriteByte, CostHashByte, CostStateListKey, CostStateRootWrite, CostPollSub, CostLogEntry)
	for _, name := range slices.Sorted(maps.Keys(hostCosts)) {
		line("cost %s=%d", name, hostCosts[name])
	}
	for _, h := range hostFuncs {
		line("env %s %s", h.name, typeString(h.params, h.results))
	}
	for _, name := range slices.Sorted(maps.Keys(wasiFuncs)) {
		line("wasi %s %s", name, wasiFuncs[name])
	}
	line("wasi env=none args=none fs=none stdin=empty stdout,stderr=log clock=logical tick=%d sleep=advance random=chacha8(blake3(onvm/wasm/random/v1,request))", clockTick)
	line("call conventions=multi_value,packed_i64,sret init=%s input=%s|grow", InitializeExport, AllocExport)
	line("init %s in a call-independent environment, its result restored into every call: time=0 random=chacha8(blake3(onvm/wasm/random/init/v1)) fuel=%d not charged to the call, state,blobs=trap; the call continues its logical clock and log",
		InitializeExport, InitFuel)
	return b.String()
}
