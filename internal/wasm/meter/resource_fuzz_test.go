package meter

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/onvm-network/onvm/internal/wasm/meter/wasmbin"
	"github.com/tetratelabs/wazero"
)

// Compile bounds the module limits are chosen to keep (docs/security.md "Module limits"):
// 2 s and 256 MiB on a quiet development machine. FuzzCompileBounds asserts twice the time,
// so that a loaded machine does not fail it (times raceSlowdown under the race detector: it
// catches a shape that compiles in minutes, not a few percent; bench/compilebench holds the
// figure), and the memory bound on the Go heap.
const (
	compileTimeBound   = 4 * time.Second * raceSlowdown
	compileMemoryBound = 256 << 20
)

// hostileModule returns a module of one of the hostile shapes, its size picked by a and b
// from zero up to about twice the limit that bounds it.
func hostileModule(shape uint8, a uint32, b uint16) []byte {
	switch shape % 6 {
	case 0: // one big function
		return limitModule([][]byte{dropBody(int(a % (2 * MaxFunctionSize / 3)))})
	case 1: // many functions
		return limitModule(repeat([]byte{0, 0x0b}, int(a%(2*MaxFunctions))))
	case 2: // deep nesting, in up to 2 000 functions
		return limitModule(repeat(nestBody(int(a%(2*MaxNesting))), int(b%2000)+1))
	case 3: // many locals, in up to 50 functions
		body := append(wasmbin.AppendU32([]byte{1}, a%(2*MaxLocals)), wasmbin.I64, 0x0b)
		return limitModule(repeat(body, int(b%50)+1))
	case 4: // branches one after the other (br_ifs or loops), in up to 4 functions
		unit := brIf
		if b&1 == 1 {
			unit = loop
		}
		return limitModule(repeat(flatBody(unit, int(a%30_000)), int(b>>1%4)+1))
	default: // many loops, in functions of 10
		return limitModule(repeat(flatBody(loop, 10), int(a%(2*MaxBlocks/11))))
	}
}

// FuzzCompileBounds generates modules of the hostile shapes (one big function, many
// functions, deep nesting, many locals, branches in a row, many loops) at growing sizes: each is either refused with a
// LimitError, or instruments and compiles on the compiler engine within the bounds.
func FuzzCompileBounds(f *testing.F) {
	f.Add(uint8(0), uint32((MaxFunctionSize-2)/3), uint16(0))              // the largest function
	f.Add(uint8(0), uint32(3_000_000), uint16(0))                          // over it
	f.Add(uint8(1), uint32(MaxFunctions), uint16(0))                       // the most functions
	f.Add(uint8(2), uint32(MaxNesting), uint16(149))                       // the most nesting work
	f.Add(uint8(2), uint32(100_000), uint16(0))                            // 100 000 nested blocks
	f.Add(uint8(3), uint32(MaxLocals), uint16(MaxTotalLocals/MaxLocals-1)) // the most locals
	f.Add(uint8(4), uint32(2827), uint16(0))                               // the most branch work
	f.Add(uint8(4), uint32(20_000), uint16(1))                             // 20 000 loops in a row
	f.Add(uint8(5), uint32(MaxBlocks/11), uint16(0))                       // the most blocks
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, shape uint8, a uint32, b uint16) {
		wasm := hostileModule(shape, a, b)
		if err := CheckLimits(wasm); err != nil {
			var le *LimitError
			if !errors.As(err, &le) {
				t.Fatalf("refused without a LimitError: %v", err)
			}
			return
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		out, err := Instrument(wasm, DefaultConfig())
		if err != nil {
			t.Fatalf("CheckLimits accepts, Instrument: %v", err)
		}
		r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
		defer r.Close(ctx)
		if _, err := r.CompileModule(ctx, out); err != nil {
			t.Fatalf("compile: %v", err)
		}
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		if took > compileTimeBound {
			t.Errorf("%d bytes took %v to instrument and compile, the bound is %v", len(wasm), took, compileTimeBound)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > compileMemoryBound {
			t.Errorf("%d bytes allocated %d MiB to instrument and compile, the bound is %d MiB", len(wasm), grew>>20, compileMemoryBound>>20)
		}
	})
}
