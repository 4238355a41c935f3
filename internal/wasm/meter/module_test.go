package meter

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestUnsupportedFeatures(t *testing.T) {
	tests := []struct {
		file string
		want []string // substrings of the error
	}{
		{"simd.wasm", []string{"function 1 ", "0xfd SIMD"}},
		{"atomics.wasm", []string{"function 1 ", "0xfe threads"}},
		{"tailcall.wasm", []string{"function 1 ", "0x12 return_call"}},
		{"exceptions.wasm", []string{"tag section"}},
		{"multimemory.wasm", []string{"multi-memory"}},
		{"memory64.wasm", []string{"memory64"}},
		{"shared.wasm", []string{"shared memory"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := Instrument(readTestdata(t, "unsupported/"+tt.file), DefaultConfig())
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("err %v, want ErrUnsupported", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

func TestInvalidModules(t *testing.T) {
	valid := readTestdata(t, "fuel.wasm")
	tests := []struct {
		name string
		wasm []byte
	}{
		{"empty", nil},
		{"magic", []byte("\x00asx\x01\x00\x00\x00")},
		{"truncated header", valid[:6]},
		{"truncated section", valid[:len(valid)-3]},
		{"section order", []byte("\x00asm\x01\x00\x00\x00\x03\x01\x00\x01\x01\x00")},
		{"unknown section", []byte("\x00asm\x01\x00\x00\x00\x0e\x00")},
		{"huge count", []byte("\x00asm\x01\x00\x00\x00\x01\x05\xff\xff\xff\xff\x0f")},
		{"body without end", []byte("\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x04\x01\x02\x00\x01")},
		{"code after end", []byte("\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x05\x01\x03\x00\x0b\x01")},
		{"bodies mismatch", []byte("\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00")},
		{"branch too deep", []byte("\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x06\x01\x04\x00\x0c\x01\x0b")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Instrument(tt.wasm, DefaultConfig())
			if !errors.Is(err, ErrInvalidModule) {
				t.Fatalf("err %v, want ErrInvalidModule", err)
			}
		})
	}
}

func TestInstrumentTwice(t *testing.T) {
	src := readTestdata(t, "compute.wasm")
	a := mustInstrument(t, src, DefaultConfig())
	b := mustInstrument(t, src, DefaultConfig())
	if !bytes.Equal(a, b) {
		t.Fatal("Instrument is not deterministic")
	}
	if _, err := Instrument(a, DefaultConfig()); !errors.Is(err, ErrAlreadyInstrumented) {
		t.Fatalf("instrumenting an instrumented module: err %v, want ErrAlreadyInstrumented", err)
	}
}

// TestIndexShift: the injected import shifts defined functions by one; the start function,
// ref.func in globals and element expressions, exports and the name section must follow.
func TestIndexShift(t *testing.T) {
	inst := mustInstrument(t, readTestdata(t, "start.wasm"), DefaultConfig())
	for _, eng := range engines {
		in := newInstance(t, eng.cfg(), inst)
		if used := DefaultInitialFuel - int64(in.fuel.Get()); used <= 0 {
			t.Errorf("%s: start function used %d fuel from InitialFuel", eng.name, used)
		}
		for fn, want := range map[string]uint64{"get": 42, "via_table": 42, "via_global": 42, "ref_is_start": 0} {
			res, _, err := in.call(t, fn, 1000)
			if err != nil || res[0]&0xffffffff != want {
				t.Errorf("%s %s() = %v, %v; want %d", eng.name, fn, res, err, want)
			}
		}
		if name := in.mod.ExportedFunction("get").Definition().Name(); name != "get" {
			t.Errorf("%s: name section: exported get is named %q", eng.name, name)
		}
	}
}

func TestNameSectionKept(t *testing.T) {
	inst := mustInstrument(t, readTestdata(t, "named.wasm"), DefaultConfig())
	in := newInstance(t, engines[1].cfg(), inst)
	for export, name := range map[string]string{"add": "add", "fib": "fib", "empty": "empty"} {
		if got := in.mod.ExportedFunction(export).Definition().Name(); got != name {
			t.Errorf("export %s named %q, want %q", export, got, name)
		}
	}
}

func TestOutOfFuel(t *testing.T) {
	inst := mustInstrument(t, readTestdata(t, "fuel.wasm"), DefaultConfig())
	for _, eng := range engines {
		in := newInstance(t, eng.cfg(), inst)
		// count(10) costs exactly 95.
		if _, used, err := in.call(t, "count", 95, 10); err != nil || used != 95 {
			t.Errorf("%s: count(10) with 95 fuel: used %d, err %v", eng.name, used, err)
		}
		if _, _, err := in.call(t, "count", 94, 10); reasonOf(err) != ReasonOutOfFuel {
			t.Errorf("%s: count(10) with 94 fuel: err %v, want out of fuel", eng.name, err)
		}
		// spin: each iteration costs 1; with budget b the (b+1)th charge goes negative.
		if _, used, err := in.call(t, "spin", 1000); reasonOf(err) != ReasonOutOfFuel || used != 1001 {
			t.Errorf("%s: spin: used %d, err %v", eng.name, used, err)
		}
		// A 4 GiB memory.fill is charged before it runs: it costs 2^28 fuel, not 1.
		if _, used, err := in.call(t, "fill", 1<<28, 0xffffffff); reasonOf(err) != ReasonOutOfFuel || used != 4+1<<28 {
			t.Errorf("%s: fill 4 GiB: used %d, err %v", eng.name, used, err)
		}
		if _, _, err := in.call(t, "fill", 0, 1); reasonOf(err) != ReasonOutOfFuel {
			t.Errorf("%s: zero budget: err %v", eng.name, err)
		}
	}
}

func TestConfig(t *testing.T) {
	if Version() != DefaultConfig().Version() || (Config{CanonicalizeNaN: true}).Version() != Version() {
		t.Errorf("zero fields must mean defaults: %q vs %q", (Config{CanonicalizeNaN: true}).Version(), Version())
	}
	c := DefaultConfig()
	c.Costs.MemoryBytesPerFuel = 64
	if c.Version() == Version() {
		t.Error("Version ignores the costs")
	}
	if _, err := Instrument(readTestdata(t, "fuel.wasm"), Config{InitialFuel: -1}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("negative InitialFuel: %v", err)
	}
	if got := DefaultCosts().HostCharge(17); got != 100+2 {
		t.Errorf("HostCharge(17) = %d", got)
	}
}
