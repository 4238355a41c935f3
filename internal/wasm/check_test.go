package wasm

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

func TestCheckRejects(t *testing.T) {
	cases := []struct {
		file  string
		entry string
		want  []string // substrings of the problems, in order
	}{
		{"unknown_import", "run", []string{"import env.onvm_shell is not a host function of the ONVM ABI"}},
		{"foreign_module", "run", []string{`import os.exec: unknown module "os"`, "import env.counter: only functions can be imported, not a global"}},
		{"bad_signature", "run", []string{
			"import env.onvm_log has type (i32,i32)->(i32), the host ABI declares (i32,i32,i32)->(i32)",
			"import wasi_snapshot_preview1.fd_write has type (i32)->(i32), the host ABI declares (i32,i32,i32,i32)->(i32)",
		}},
		{"simd", "run", []string{`invalid module:`, `SIMD`}},
		{"threads", "run", []string{`invalid module:`, `threads`}},
		{"start", "run", []string{"start function 0: a start function runs before fuel is set"}},
		{"no_memory", "run", []string{
			"export onvm_fuel: the name is reserved for the meter",
			"export _initialize has type (i32)->(), want ()->()",
			"export onvm_alloc has type (i64)->(i64), want (i32)->(i32)",
			"program missing exported memory",
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			wasm := rawFixture(t, filepath.Join("invalid", c.file))
			rep, err := Check(wasm, c.entry)
			if !errors.Is(err, ErrInvalidModule) {
				t.Fatalf("err = %v, want invalid_module", err)
			}
			if rep == nil || rep.OK {
				t.Fatalf("report = %+v, want problems", rep)
			}
			all := strings.Join(rep.Problems, "\n")
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("problems lack %q:\n%s", w, all)
				}
			}
			if !strings.Contains(err.Error(), rep.Problems[0]) {
				t.Errorf("error %q does not name the first problem %q", err, rep.Problems[0])
			}
			if _, err := Prepare(wasm); !errors.Is(err, ErrInvalidModule) {
				t.Errorf("Prepare: err = %v, want invalid_module", err)
			}
		})
	}
	t.Run("entrypoint", func(t *testing.T) {
		for entry, want := range map[string]string{
			"nope":  "program must export nope as (i32,i32)->(i32,i32), (i32,i32)->i64, or (i32,i32,i32)->() with sret (no such export)",
			"wrong": "program must export wrong as (i32,i32)->(i32,i32), (i32,i32)->i64, or (i32,i32,i32)->() with sret (it is (i32)->(i32))",
		} {
			rep, err := Check(rawFixture(t, "echo_multi"), entry)
			if err == nil || !slices.Contains(rep.Problems, want) {
				t.Errorf("Check(%s) problems = %q, want %q", entry, rep.Problems, want)
			}
		}
	})
	t.Run("garbage", func(t *testing.T) {
		for _, b := range [][]byte{nil, []byte("hello"), []byte("\x00asm\x02\x00\x00\x00"), make([]byte, MaxCodeSize+1)} {
			rep, err := Check(b, "run")
			if !errors.Is(err, ErrInvalidModule) || rep == nil || rep.OK {
				t.Errorf("Check(%.8q) = %+v, %v", b, rep, err)
			}
		}
	})
	t.Run("already metered", func(t *testing.T) {
		_, err := Prepare(fixture(t, "echo_multi"))
		if !errors.Is(err, ErrInvalidModule) || !strings.Contains(err.Error(), "already instrumented") {
			t.Errorf("Prepare(prepared) = %v", err)
		}
	})
}

func TestCheckAccepts(t *testing.T) {
	cases := []struct {
		file, entry string
		conv        Convention
		init, alloc bool
	}{
		{"echo_multi", "run", ConvMultiValue, false, false},
		{"echo_packed", "run", ConvPacked, false, false},
		{"echo_sret", "run", ConvSret, false, false},
		{"alloc", "run", ConvMultiValue, true, true},
		{"msort", "sort", ConvSret, false, true},
		{"hostcalls", "call", ConvPacked, false, false},
		{"wasi", "run", ConvPacked, false, false},
		{"goguest", "probe", ConvPacked, true, true},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			rep, err := Check(rawFixture(t, c.file), c.entry)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK || rep.Convention != c.conv || rep.Initialize != c.init || rep.Allocator != c.alloc || rep.Memory == nil {
				t.Errorf("report = %+v", rep)
			}
		})
	}
	rep, _ := Check(rawFixture(t, "hostcalls"), "call")
	var out strings.Builder
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "check_hostcalls.golden.json", out.String())
}

// TestWASITable keeps wasiFuncs equal to wazero's WASI host module.
func TestWASITable(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	defs := r.Module(WASIModule).ExportedFunctionDefinitions()
	if len(defs) != len(wasiFuncs) {
		t.Errorf("wazero exports %d WASI functions, the table has %d", len(defs), len(wasiFuncs))
	}
	for name, d := range defs {
		want := funcSig{d.ParamTypes(), d.ResultTypes()}.String()
		if got, ok := wasiFuncs[name]; !ok || got.String() != want {
			t.Errorf("%s: table has %v, wazero %s", name, got, want)
		}
	}
}

// TestWazeroVersion keeps wazeroVersion (part of EnvHash) equal to go.mod.
func TestWazeroVersion(t *testing.T) {
	b, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "github.com/tetratelabs/wazero "+wazeroVersion) {
		t.Errorf("go.mod does not require wazero %s", wazeroVersion)
	}
}

// FuzzCheck: Check's report and error agree, Check accepting implies Prepare
// succeeding, and Run refuses arbitrary bytes as code. None of them may
// allocate without bound: wazero, whose decoder allocates what count fields
// say, only sees bytes admit accepted (the corpus under
// testdata/fuzz/FuzzCheck holds modules that made it allocate gigabytes; run
// the fuzzer under `ulimit -v` to make an unbounded allocation fatal).
func FuzzCheck(f *testing.F) {
	for _, name := range []string{"echo_multi", "alloc", "hostcalls", "wasi", "invalid/start", "invalid/no_memory"} {
		b, err := os.ReadFile(filepath.Join("testdata", name+".wasm"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, b := range untrustedBombs {
		f.Add(b.wasm)
	}
	r, err := New(context.Background(), Config{})
	if err != nil {
		f.Fatal(err)
	}
	defer r.Close(context.Background())
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := Check(b, "run")
		if rep == nil {
			t.Fatal("nil report")
		}
		if (err == nil) != rep.OK {
			t.Fatalf("err = %v but OK = %v", err, rep.OK)
		}
		if err == nil {
			if _, err := Prepare(b); err != nil {
				t.Fatalf("Check accepts, Prepare fails: %v", err)
			}
		}
		// Uninstrumented bytes are never run (and never reach wazero unchecked).
		if res, err := r.Run(context.Background(), Call{Code: b, Entrypoint: "run", Fuel: 100_000, Timeout: time.Second}); err == nil || res != nil {
			t.Fatalf("Run of raw bytes = %v, %v", res, err)
		}
	})
}
