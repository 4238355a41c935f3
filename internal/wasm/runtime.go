package wasm

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onvm-network/onvm/internal/id"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Config configures a Runtime. The zero value is valid. Nothing here changes
// the result of a call (those limits are per Call, with defaults in EnvHash).
type Config struct {
	// CacheDir holds wazero's on-disk compilation cache (the node passes
	// <data-dir>/wasm-cache). Empty: no disk cache.
	CacheDir string
	// MaxCompiledBytes bounds the in-memory cache of compiled modules, by
	// an estimate of their size (8 × the wasm size). 0 = 256 MiB.
	MaxCompiledBytes int64
	// Interpreter selects wazero's interpreter instead of the compiler. It
	// is slow and meant for differential tests; it is also used when the
	// platform has no compiler. Results are identical.
	Interpreter bool
	// Logger receives debug events (compilations, evictions). nil = discard.
	Logger *slog.Logger
	// CheckpointInterval is the fuel a guest burns between two returns to
	// Go code, where the runtime checks the call's deadline and context and
	// where a stop-the-world pause (a GC) waiting for the guest can proceed.
	// It bounds how late a timeout or cancellation stops a guest and how long
	// a guest can hold up every other goroutine; it never changes a result.
	// 0 = DefaultCheckpointInterval on the compiler, a fiftieth of it on the
	// (~50× slower) interpreter.
	CheckpointInterval int64
	// CompileConcurrency bounds the modules compiled at the same time (with
	// the compiler engine a compilation keeps one core busy); more wait for
	// a slot. 0 = DefaultCompileConcurrency().
	CompileConcurrency int
	// CompileWait is the longest Compile waits for a compilation (a deploy
	// waits this long for its module to be runnable here); the compilation
	// goes on after it. A compilation that takes longer is logged as a
	// warning: the module limits are meant to keep every accepted module
	// far below it. 0 = DefaultCompileWait.
	CompileWait time.Duration

	closeOnContextDone bool // benchmarks only: wazero's own interruption, for comparison
	noSnapshots        bool // tests only: run _initialize in every call's instance
}

// DefaultMaxCompiledBytes is Config.MaxCompiledBytes when zero.
const DefaultMaxCompiledBytes = 256 << 20

// DefaultCheckpointInterval is Config.CheckpointInterval on the compiler
// when zero: 0.1–0.5 ms of typical work, and ~25 ms of the slowest work
// measured (loads that all miss the cache); see docs/rationale/runtime.md.
const DefaultCheckpointInterval = 1_000_000

// DefaultCompileWait is Config.CompileWait when zero: five times the 2 s
// the module limits aim at for the largest accepted module.
const DefaultCompileWait = 10 * time.Second

// DefaultCompileConcurrency is Config.CompileConcurrency when zero: half
// the cores (at least one), so that compilations leave the other half to
// the executions of programs already compiled.
func DefaultCompileConcurrency() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// coreFeatures are the wasm features a module may use: WebAssembly 2.0
// without SIMD (float lanes make NaN canonicalisation impractical) and
// without threads (never enabled).
var coreFeatures = api.CoreFeaturesV2.SetEnabled(api.CoreFeatureSIMD, false)

// Runtime runs calls. It is safe for concurrent use; each call gets an
// instance of its module of its own, in the state _initialize leaves: a
// fresh one, or, for a reactor, one restored from (or reset to) the
// snapshot taken after _initialize (snapshot.go, pool.go).
type Runtime struct {
	rt          wazero.Runtime
	cache       wazero.CompilationCache // nil without CacheDir
	modules     *moduleCache
	modCfg      wazero.ModuleConfig
	interpreter bool
	noSnapshots bool
	interval    int64         // Config.CheckpointInterval after defaults
	compileWait time.Duration // Config.CompileWait after defaults
	log         *slog.Logger
	closed      atomic.Bool
	closeOnce   sync.Once
	closeErr    error

	// compiling counts compilations in flight, which Close waits for:
	// wazero's engine must not be closed under a compilation (it panics).
	// compileMu orders the count's increments against Close.
	compileMu sync.Mutex
	compiling sync.WaitGroup
}

// New creates a runtime and links the host modules (env, onvm_meter, WASI).
func New(ctx context.Context, cfg Config) (*Runtime, error) {
	r := &Runtime{
		interpreter: cfg.Interpreter || !compilerSupported(),
		noSnapshots: cfg.noSnapshots,
		log:         cfg.Logger,
	}
	if r.log == nil {
		r.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	r.interval = cfg.CheckpointInterval
	if r.interval <= 0 {
		r.interval = DefaultCheckpointInterval
		if r.interpreter {
			r.interval /= 50
		}
	}
	// Not WithCloseOnContextDone: it made tight loops 38–44× slower; guests
	// are stopped at the meter's checkpoints instead (see fuel.go).
	var rc wazero.RuntimeConfig
	if r.interpreter {
		rc = wazero.NewRuntimeConfigInterpreter()
	} else {
		rc = wazero.NewRuntimeConfigCompiler()
	}
	rc = rc.WithCloseOnContextDone(cfg.closeOnContextDone)
	rc = rc.WithCoreFeatures(coreFeatures).WithCustomSections(false)
	if cfg.CacheDir != "" {
		if err := os.MkdirAll(cfg.CacheDir, 0o700); err != nil {
			return nil, fmt.Errorf("create wasm cache dir %s: %w", cfg.CacheDir, err)
		}
		cache, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("open wasm cache dir %s: %w", cfg.CacheDir, err)
		}
		r.cache = cache
		rc = rc.WithCompilationCache(cache)
	}
	r.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	for _, link := range []func(context.Context, wazero.Runtime) error{instantiateHost, instantiateMeterHost, instantiateWASI} {
		if err := link(ctx, r.rt); err != nil {
			_ = r.Close(ctx)
			return nil, err
		}
	}
	maxBytes := cfg.MaxCompiledBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxCompiledBytes
	}
	slots := cfg.CompileConcurrency
	if slots <= 0 {
		slots = DefaultCompileConcurrency()
	}
	r.compileWait = cfg.CompileWait
	if r.compileWait <= 0 {
		r.compileWait = DefaultCompileWait
	}
	r.modules = newModuleCache(maxBytes, slots, r.compile)
	r.modules.log, r.modules.slow = r.log, r.compileWait
	r.modCfg = wazero.NewModuleConfig().WithName("").WithStartFunctions()
	return r, nil
}

// compile compiles code for Run. The code should be Prepare's output, but
// it comes from storage or from peers, so it passes the same gate as an
// upload before wazero sees it, and a start function is refused (it would
// run inside instantiation, before the call's fuel is set).
//
// A reactor (a module exporting _initialize) is compiled as its snapshot
// variant when planSnapshot accepts it, and then never instantiated
// without its snapshot (see snapshot_plan.go).
func (r *Runtime) compile(ctx context.Context, code []byte) (wazero.CompiledModule, *snapshotPlan, error) {
	if err := admit(code); err != nil {
		return nil, nil, err
	}
	if hasStart(code) {
		return nil, nil, fmt.Errorf("%w: the module has a start function", ErrInvalidModule)
	}
	src := code
	var plan *snapshotPlan
	if !r.noSnapshots {
		var variant []byte
		var why string
		if plan, variant, why = planSnapshot(code); plan != nil {
			src = variant
		} else if why != "no "+InitializeExport {
			r.log.Debug("wasm module runs _initialize per call", "reason", why)
		}
	}
	r.compileMu.Lock()
	if r.closed.Load() {
		r.compileMu.Unlock()
		return nil, nil, ErrClosed
	}
	r.compiling.Add(1)
	r.compileMu.Unlock()
	m, err := r.rt.CompileModule(ctx, src)
	r.compiling.Done()
	if err != nil {
		return nil, nil, err
	}
	r.log.Debug("wasm module compiled", "bytes", len(code), "snapshot", plan != nil)
	return m, plan, nil
}

// Compile compiles code (an instrumented module, as Prepare returns it)
// into the runtime's cache ahead of its calls, so that they do not wait for
// it: deploys call it. hash is the cache key, as Call.CodeHash (zero:
// id.Sum(code)). It waits until the module is compiled, ctx ends or
// Config.CompileWait passes; in the last two cases it returns KindCompiling
// (or the context's kind) and the compilation goes on, and the next Compile
// or Run of the same code waits for the same compilation. A module that
// does not compile is KindInvalidModule.
func (r *Runtime) Compile(ctx context.Context, hash id.Hash, code []byte) error {
	if r.closed.Load() {
		return ErrClosed
	}
	if hash.IsZero() {
		hash = id.Sum(code)
	}
	e, err := r.modules.get(ctx, hash, code, time.Now().Add(r.compileWait))
	if err != nil {
		return err
	}
	r.modules.release(e)
	return nil
}

// Compiled reports whether the module cached under hash is compiled and
// ready for calls.
func (r *Runtime) Compiled(hash id.Hash) bool { return r.modules.compiled(hash) }

// Close releases the compiled modules and the engine. Calls running
// concurrently must have returned; a compilation in progress is waited
// for. Close is idempotent.
func (r *Runtime) Close(ctx context.Context) error {
	r.closeOnce.Do(func() {
		r.compileMu.Lock()
		r.closed.Store(true)
		r.compileMu.Unlock()
		r.compiling.Wait() // bounded: modules past the limits never compile
		if r.modules != nil {
			r.modules.stop()
			r.modules.closeAll()
		}
		if r.rt != nil {
			r.closeErr = r.rt.Close(ctx)
		}
		if r.cache != nil {
			if err := r.cache.Close(ctx); err != nil && r.closeErr == nil {
				r.closeErr = err
			}
		}
	})
	return r.closeErr
}

// compilerSupported mirrors wazero's platform check: the compiler exists
// for amd64 and arm64 on these systems.
func compilerSupported() bool {
	switch runtime.GOOS {
	case "linux", "darwin", "freebsd", "netbsd", "windows":
		return runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64"
	}
	return false
}
