package examples_test

import (
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/onvm-network/onvm/examples/internal/abitest"
	"github.com/onvm-network/onvm/examples/internal/golden"
	"github.com/onvm-network/onvm/guest/guesttest"
)

func loadProgram(t *testing.T, e string, host *guesttest.Host) *program {
	t.Helper()
	wasm, err := os.ReadFile(filepath.Join(e, e+".wasm"))
	if err != nil {
		t.Fatalf("%v (run `make examples`)", err)
	}
	return newProgram(t, wasm, host)
}

// TestWasmTranscripts replays each example's transcript through its
// committed .wasm: the same calls and outputs as its native test.
func TestWasmTranscripts(t *testing.T) {
	for _, e := range examples {
		t.Run(e, func(t *testing.T) {
			p := loadProgram(t, e, guesttest.New())
			golden.Replay(t, filepath.Join(e, "testdata", "calls.txtar"), func(in []byte) ([]byte, error) {
				return p.mustCall(t.Context(), in)
			})
		})
	}
}

// TestWasmImports pins what each module imports: the Go runtime's WASI
// functions, the SDK's two (fd_write and proc_exit, for aborting a call),
// and only the env functions the program reaches.
func TestWasmImports(t *testing.T) {
	wasi := []string{
		"args_get", "args_sizes_get", "clock_time_get", "environ_get", "environ_sizes_get",
		"fd_write", "poll_oneoff", "proc_exit", "random_get", "sched_yield",
	}
	env := map[string][]string{
		"echo":      nil,
		"kvstore":   {"onvm_state_exists", "onvm_state_get", "onvm_state_put"},
		"analytics": nil,
		"job-test":  nil,
	}
	for _, e := range examples {
		p := loadProgram(t, e, guesttest.New())
		var want []string
		for _, f := range wasi {
			want = append(want, "wasi_snapshot_preview1."+f)
		}
		for _, f := range env[e] {
			want = append(want, "env."+f)
		}
		if got := importsOf(p.cm); !sameSet(got, want) {
			t.Errorf("%s imports %v\nwant %v", e, got, want)
		}
		if exp := p.cm.ExportedFunctions(); exp["_initialize"] == nil || exp["onvm_alloc"] == nil || exp["onvm_main"] == nil {
			t.Errorf("%s lacks an export of _initialize, onvm_alloc or onvm_main", e)
		}
		if p.cm.ExportedMemories()["memory"] == nil {
			t.Errorf("%s does not export memory", e)
		}
	}
}

// TestWasmWASICalls records which WASI functions a Go reactor calls, for
// the runtime: at _initialize the Go runtime reads the clocks, 32 bytes of
// random (its hash seed) and the sizes of argv and the environment; a call
// that neither allocates much nor prints makes no WASI call at all.
func TestWasmWASICalls(t *testing.T) {
	p := loadProgram(t, "echo", guesttest.New())
	ctx := t.Context()
	var m api.Module
	init := p.record(func() {
		var err error
		if m, err = p.instantiate(ctx, nil, nil); err != nil {
			t.Fatal(err)
		}
	})
	defer m.Close(ctx)
	call := p.record(func() {
		if out, err := invoke(ctx, m, "onvm_main", []byte("hi")); err != nil || string(out) != "HI" {
			t.Errorf("onvm_main = %q, %v", out, err)
		}
	})
	init = slices.Compact(slices.Sorted(slices.Values(init)))
	if want := []string{"args_sizes_get", "clock_time_get", "environ_sizes_get", "random_get"}; !slices.Equal(init, want) {
		t.Errorf("WASI calls during _initialize: %v, want %v", init, want)
	}
	if len(call) != 0 {
		t.Errorf("WASI calls during onvm_main: %v, want none", call)
	}
	t.Logf("_initialize WASI calls: %v", init)
}

// TestWasmABI runs the abitest program, which calls every host function,
// natively under guesttest and as wasm under wazero, on equal hosts, and
// requires identical reports.
func TestWasmABI(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: building the test program takes ~20 s with a cold build cache")
	}
	wasmPath := filepath.Join(t.TempDir(), "abitest.wasm")
	goBuildWasm(t, "./examples/internal/abitest/wasm", wasmPath)
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	newHost := func() (*guesttest.Host, string) {
		h := guesttest.New()
		b := h.AddBlob([]byte("hello blob"))
		return h, b.String()
	}
	wasmHost, blobID := newHost()
	nativeHost, _ := newHost()
	p := newProgram(t, wasm, wasmHost)

	digest := [32]byte{1, 2, 3}
	sig, pub := guesttest.Sign([32]byte{9}, digest)
	commands := []string{
		"state",
		"blob " + blobID,
		"misc",
		"secp " + hex.EncodeToString(digest[:]) + " " + hex.EncodeToString(sig[:]) + " " + hex.EncodeToString(pub[:]),
		"stdout",
		"sleep", // Go polls clock_time_get and poll_oneoff until the deadline
	}
	for _, cmd := range commands {
		name, _, _ := strings.Cut(cmd, " ")
		t.Run(name, func(t *testing.T) {
			want, err := nativeHost.Call(abitest.Handle, []byte(cmd))
			if err != nil {
				t.Fatalf("native: %v", err)
			}
			got, err := p.call(t.Context(), []byte(cmd))
			if err != nil || got.exited {
				t.Fatalf("wasm: %v (exit %d, stderr %q)", err, got.exitCode, got.stderr)
			}
			if string(got.out) != string(want) {
				t.Errorf("wasm report differs from native\nwasm:\n%s\nnative:\n%s", got.out, want)
			}
			if name == "stdout" && (got.stdout != "to stdout\n" || got.stderr != "to stderr\n") {
				t.Errorf("stdout %q, stderr %q", got.stdout, got.stderr)
			}
		})
	}
	if d, w := nativeHost.Logs(), wasmHost.Logs(); !slices.Equal(d, w) {
		t.Errorf("logs differ: native %v, wasm %v", d, w)
	}

	t.Run("big output", func(t *testing.T) {
		got, err := p.mustCall(t.Context(), []byte("big 3000000"))
		if err != nil || len(got) != 3000000 || got[250] != 250 || got[251] != 0 {
			t.Fatalf("big output: %d bytes, %v", len(got), err)
		}
	})
	t.Run("big input", func(t *testing.T) {
		in := []byte("big 10 " + strings.Repeat("x", 1<<20))
		got, err := p.mustCall(t.Context(), in)
		if err != nil || len(got) != 10 {
			t.Fatalf("1 MiB input: %d bytes out, %v", len(got), err)
		}
	})
	t.Run("handler error aborts with exit 1", func(t *testing.T) {
		got, err := p.call(t.Context(), []byte("fail"))
		if err != nil || !got.exited || got.exitCode != 1 || got.stderr != "onvm: deliberate failure\n" {
			t.Fatalf("fail: %+v, %v", got, err)
		}
	})
	t.Run("panic traps with unreachable", func(t *testing.T) {
		got, err := p.call(t.Context(), []byte("panic"))
		if err != nil || got.trap == nil || !strings.Contains(got.trap.Error(), "unreachable") ||
			!strings.HasPrefix(got.stderr, "panic: deliberate panic\n\ngoroutine 1 [running]:") {
			t.Fatalf("panic: %+v, %v", got, err)
		}
	})
	t.Run("input placement", func(t *testing.T) {
		ctx := t.Context()
		var stderr strings.Builder
		m, err := p.instantiate(ctx, io.Discard, &stderr)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close(ctx)
		res, err := m.ExportedFunction("onvm_alloc").Call(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		buf := uint32(res[0])
		m.Memory().Write(buf+10, []byte("big 7"))
		// An input inside an onvm_alloc buffer is accepted ...
		res, err = m.ExportedFunction("onvm_main").Call(ctx, uint64(buf+10), 5)
		if err != nil || uint32(res[0]) != 7 {
			t.Fatalf("input at an offset in the buffer: %v, %v", res, err)
		}
		// ... one outside any (the buffer was released when the call ended) aborts.
		_, err = m.ExportedFunction("onvm_main").Call(ctx, uint64(buf), 5)
		var exit *sys.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 || stderr.String() != "onvm: input not in an onvm_alloc buffer\n" {
			t.Fatalf("input outside onvm_alloc buffers: %v, stderr %q", err, stderr.String())
		}
	})
	t.Run("empty input", func(t *testing.T) {
		got, err := p.call(t.Context(), nil)
		if err != nil || got.exitCode != 1 || got.stderr != "onvm: no command\n" {
			t.Fatalf("empty input: %+v, %v", got, err)
		}
	})
}
