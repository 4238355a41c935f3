package examples_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/onvm-network/onvm/guest"
	"github.com/onvm-network/onvm/guest/guesttest"
)

// program runs a compiled ONVM module the way the node does, from the
// guest's side of the ABI: a fresh instance per call, _initialize, then
// onvm_alloc for the input buffer and onvm_main with the packed (i64)
// convention. The env host functions are minimal stubs in this file that
// forward to an in-memory guesttest.Host, so state persists across calls.
type program struct {
	rt   wazero.Runtime
	cm   wazero.CompiledModule
	host *guesttest.Host

	mu   sync.Mutex
	wasi []string // WASI functions called, in order, while recording
	rec  bool
}

// compiled shares compiled modules between the tests' runtimes: compiling
// a 2 MB Go module takes seconds.
var compiled = wazero.NewCompilationCache()

// outcome is what one call produced.
type outcome struct {
	out            []byte
	stdout, stderr string
	exitCode       uint32 // proc_exit status if the guest exited
	exited         bool
	trap           error // a wasm trap (a Go panic ends in `unreachable`)
}

func newProgram(t *testing.T, wasm []byte, host *guesttest.Host) *program {
	t.Helper()
	p := &program{host: host}
	ctx := experimental.WithFunctionListenerFactory(t.Context(), experimental.FunctionListenerFactoryFunc(p.listener))
	p.rt = wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter().WithCompilationCache(compiled))
	t.Cleanup(func() { p.rt.Close(context.Background()) })
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, p.rt); err != nil {
		t.Fatal(err)
	}
	if err := bindEnv(ctx, p.rt, host.ABI()); err != nil {
		t.Fatal(err)
	}
	cm, err := p.rt.CompileModule(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	p.cm = cm
	return p
}

// listener records calls of the WASI host functions while p.rec is set.
func (p *program) listener(def api.FunctionDefinition) experimental.FunctionListener {
	name := def.Name()
	if def.ModuleName() != wasi_snapshot_preview1.ModuleName {
		return nil
	}
	return experimental.FunctionListenerFunc(func(context.Context, api.Module, api.FunctionDefinition, []uint64, experimental.StackIterator) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.rec {
			p.wasi = append(p.wasi, name)
		}
	})
}

// record runs f and returns the WASI functions called meanwhile.
func (p *program) record(f func()) []string {
	p.mu.Lock()
	p.rec, p.wasi = true, nil
	p.mu.Unlock()
	f()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rec = false
	return p.wasi
}

// zeros is a deterministic WASI random source.
type zeros struct{}

func (zeros) Read(b []byte) (int, error) { clear(b); return len(b), nil }

// instantiate creates an instance and runs _initialize.
func (p *program) instantiate(ctx context.Context, stdout, stderr io.Writer) (api.Module, error) {
	cfg := wazero.NewModuleConfig().WithName("").WithStartFunctions().
		WithStdout(stdout).WithStderr(stderr).WithRandSource(zeros{})
	m, err := p.rt.InstantiateModule(ctx, p.cm, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := m.ExportedFunction("_initialize").Call(ctx); err != nil {
		m.Close(ctx)
		return nil, fmt.Errorf("_initialize: %w", err)
	}
	return m, nil
}

// invoke places input with onvm_alloc and calls entry.
func invoke(ctx context.Context, m api.Module, entry string, input []byte) ([]byte, error) {
	res, err := m.ExportedFunction("onvm_alloc").Call(ctx, uint64(len(input)))
	if err != nil {
		return nil, fmt.Errorf("onvm_alloc: %w", err)
	}
	ptr := uint32(res[0])
	if !m.Memory().Write(ptr, input) {
		return nil, fmt.Errorf("onvm_alloc returned %#x, not writable for %d bytes", ptr, len(input))
	}
	res, err = m.ExportedFunction(entry).Call(ctx, uint64(ptr), uint64(len(input)))
	if err != nil {
		return nil, err
	}
	outPtr, outLen := uint32(res[0]>>32), uint32(res[0])
	out, ok := m.Memory().Read(outPtr, outLen)
	if !ok {
		return nil, fmt.Errorf("output (%#x, %d) out of bounds", outPtr, outLen)
	}
	return bytes.Clone(out), nil
}

// call runs one call of onvm_main in a fresh instance.
func (p *program) call(ctx context.Context, input []byte) (outcome, error) {
	var stdout, stderr bytes.Buffer
	m, err := p.instantiate(ctx, &stdout, &stderr)
	if err != nil {
		return outcome{}, err
	}
	defer m.Close(ctx)
	out, err := invoke(ctx, m, "onvm_main", input)
	o := outcome{out: out, stdout: stdout.String(), stderr: stderr.String()}
	var exit *sys.ExitError
	switch {
	case errors.As(err, &exit):
		o.exited, o.exitCode = true, exit.ExitCode()
	case err != nil && strings.Contains(err.Error(), "wasm error:"):
		o.trap = err
	case err != nil:
		return o, err
	}
	return o, nil
}

// mustCall is call for calls expected to return normally.
func (p *program) mustCall(ctx context.Context, input []byte) ([]byte, error) {
	o, err := p.call(ctx, input)
	switch {
	case err != nil:
	case o.exited:
		err = fmt.Errorf("guest exited with %d: %s", o.exitCode, o.stderr)
	case o.trap != nil:
		err = fmt.Errorf("guest trapped: %w; stderr: %s", o.trap, o.stderr)
	}
	return o.out, err
}

// bindEnv instantiates the "env" host module with stubs of the ONVM host
// functions that translate (pointer, length) pairs into views of guest
// memory and forward to h. An out-of-bounds argument returns -2, as the
// node's functions do.
func bindEnv(ctx context.Context, rt wazero.Runtime, h guest.Host) error {
	mem := func(m api.Module, ptr, n uint32) ([]byte, bool) { return m.Memory().Read(ptr, n) }
	b := rt.NewHostModuleBuilder("env")
	fn := func(name string, f any) { b.NewFunctionBuilder().WithFunc(f).Export(name) }
	type M = api.Module
	type C = context.Context

	// State.
	fn("onvm_state_put", func(_ C, m M, kp, kl, vp, vl uint32) int32 {
		k, ok1 := mem(m, kp, kl)
		v, ok2 := mem(m, vp, vl)
		if !ok1 || !ok2 {
			return -2
		}
		return h.StatePut(k, v)
	})
	fn("onvm_state_get", func(_ C, m M, kp, kl, op, oc uint32) int32 {
		k, ok1 := mem(m, kp, kl)
		o, ok2 := mem(m, op, oc)
		if !ok1 || !ok2 {
			return -2
		}
		return h.StateGet(k, o)
	})
	fn("onvm_state_del", func(_ C, m M, kp, kl uint32) int32 {
		k, ok := mem(m, kp, kl)
		if !ok {
			return -2
		}
		return h.StateDel(k)
	})
	fn("onvm_state_exists", func(_ C, m M, kp, kl uint32) int32 {
		k, ok := mem(m, kp, kl)
		if !ok {
			return -2
		}
		return h.StateExists(k)
	})
	fn("onvm_state_len", func(_ C, m M, kp, kl uint32) int64 {
		k, ok := mem(m, kp, kl)
		if !ok {
			return -2
		}
		return h.StateLen(k)
	})
	fn("onvm_state_list", func(_ C, m M, pp, pl, op, oc uint32) int32 {
		p, ok1 := mem(m, pp, pl)
		o, ok2 := mem(m, op, oc)
		if !ok1 || !ok2 {
			return -2
		}
		return h.StateList(p, o)
	})
	fn("onvm_state_root", func(_ C, m M, op uint32) int32 {
		o, ok := mem(m, op, 32)
		if !ok {
			return -3
		}
		return h.StateRoot(o)
	})

	// Blobs.
	fn("onvm_blob_read", func(_ C, m M, ip, il, op, oc uint32) int32 {
		id, ok1 := mem(m, ip, il)
		o, ok2 := mem(m, op, oc)
		if !ok1 || !ok2 {
			return -2
		}
		return h.BlobRead(id, o)
	})
	fn("onvm_blob_len", func(_ C, m M, ip, il uint32) int64 {
		id, ok := mem(m, ip, il)
		if !ok {
			return -2
		}
		return h.BlobLen(id)
	})
	fn("onvm_blob_hash", func(_ C, m M, ip, il, op uint32) int32 {
		id, ok1 := mem(m, ip, il)
		o, ok2 := mem(m, op, 32)
		if !ok1 || !ok2 {
			return -2
		}
		return h.BlobHash(id, o)
	})
	fn("onvm_blob_exists", func(_ C, m M, ip, il uint32) int32 {
		id, ok := mem(m, ip, il)
		if !ok {
			return -2
		}
		return h.BlobExists(id)
	})
	fn("onvm_blob_addr", func(_ C, m M, ip, il, op uint32) int32 {
		id, ok1 := mem(m, ip, il)
		o, ok2 := mem(m, op, 32)
		if !ok1 || !ok2 {
			return -2
		}
		return h.BlobAddr(id, o)
	})

	// Misc and crypto.
	fn("onvm_log", func(_ C, m M, level int32, mp, ml uint32) int32 {
		msg, ok := mem(m, mp, ml)
		if !ok {
			return -2
		}
		return h.Log(level, msg)
	})
	fn("onvm_now_ms", func(C, M) int64 { return h.NowMs() })
	fn("onvm_random_bytes", func(_ C, m M, op, ol uint32) int32 {
		o, ok := mem(m, op, ol)
		if !ok {
			return -3
		}
		return h.RandomBytes(o)
	})
	fn("onvm_crypto_hash", func(_ C, m M, algo int32, ip, il, op, oc uint32) int32 {
		in, ok1 := mem(m, ip, il)
		o, ok2 := mem(m, op, oc)
		if !ok1 || !ok2 {
			return -4
		}
		return h.CryptoHash(algo, in, o)
	})
	fn("onvm_crypto_secp256k1_verify", func(_ C, m M, dp, sp, pp uint32) int32 {
		d, ok1 := mem(m, dp, 32)
		s, ok2 := mem(m, sp, 65)
		p, ok3 := mem(m, pp, 64)
		if !ok1 || !ok2 || !ok3 {
			return -2
		}
		return h.Secp256k1Verify(d, s, p)
	})
	fn("onvm_crypto_secp256k1_recover", func(_ C, m M, dp, sp, op uint32) int32 {
		d, ok1 := mem(m, dp, 32)
		s, ok2 := mem(m, sp, 65)
		o, ok3 := mem(m, op, 64)
		if !ok1 || !ok2 || !ok3 {
			return -4
		}
		return h.Secp256k1Recover(d, s, o)
	})
	_, err := b.Instantiate(ctx)
	return err
}

// importsOf lists a compiled module's imports as "module.name".
func importsOf(cm wazero.CompiledModule) []string {
	var out []string
	for _, f := range cm.ImportedFunctions() {
		mod, name, _ := f.Import()
		out = append(out, mod+"."+name)
	}
	return out
}

// sameSet reports whether a and b hold the same strings, ignoring order
// and repetition.
func sameSet(a, b []string) bool {
	set := func(xs []string) string {
		m := map[string]bool{}
		for _, x := range xs {
			m[x] = true
		}
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return strings.Join(keys, ",")
	}
	return set(a) == set(b)
}
