package meter

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"
)

// TestGoGuest runs a real Go (wasip1) program uninstrumented and instrumented on both
// engines: identical output, and identical fuel on both engines.
func TestGoGuest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and compiles a 2.6 MB Go guest")
	}
	src := goGuestWasm(t)
	inst := mustInstrument(t, src, DefaultConfig())
	var want string
	fuel := map[string]int64{}
	for _, eng := range engines {
		for _, v := range []struct {
			name string
			wasm []byte
		}{{"raw", src}, {"metered", inst}} {
			ctx := context.Background()
			r, _ := newRuntime(t, ctx, eng.cfg())
			var out bytes.Buffer
			// Instantiate without running _start, so the budget can be set first.
			mod, err := r.InstantiateWithConfig(ctx, v.wasm, wazero.NewModuleConfig().WithName("").WithStdout(&out).WithStartFunctions())
			if err != nil {
				t.Fatalf("%s %s: %v", eng.name, v.name, err)
			}
			g, _ := mod.ExportedGlobal(FuelExport).(api.MutableGlobal)
			if g != nil {
				g.Set(1 << 40)
			}
			_, err = mod.ExportedFunction("_start").Call(ctx)
			var exit *sys.ExitError
			if err != nil && !(asExit(err, &exit) && exit.ExitCode() == 0) {
				t.Fatalf("%s %s: %v", eng.name, v.name, err)
			}
			if want == "" {
				want = out.String()
			} else if out.String() != want {
				t.Errorf("%s %s: output %q, want %q", eng.name, v.name, out.String(), want)
			}
			if g != nil {
				fuel[eng.name] = 1<<40 - int64(g.Get())
			}
		}
	}
	if fuel["compiler"] != fuel["interpreter"] || fuel["compiler"] == 0 {
		t.Errorf("fuel: compiler %d, interpreter %d", fuel["compiler"], fuel["interpreter"])
	}
	t.Logf("Go guest: %d fuel, output %q", fuel["compiler"], want)
}

func asExit(err error, target **sys.ExitError) bool { return errors.As(err, target) }
