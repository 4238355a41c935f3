// Command compilebench measures what a node pays to instrument and compile modules of the
// hostile shapes the module limits bound (docs/security.md "Module limits"): one big
// function, many functions, deep nesting, many locals. Each measurement runs in a child
// process so that its peak RSS is its own.
//
//	go run ./bench/compilebench                 the default table of shapes and sizes
//	go run ./bench/compilebench -shape nest -n 100000   one measurement
//	go run ./bench/compilebench -interpreter    compile with the interpreter, as deploy-time validation does
//	go run ./bench/compilebench -cachedir DIR   compile through wazero's on-disk cache in DIR; a
//	                                            second run measures what a restarted node pays
//
// The first row, "empty" (a module of one empty function), is the run's baseline: the cost
// of a compilation as such. It prints, per line: shape, size, module bytes, instrument ms, compile ms (wazero's
// compiler engine, as nodes use), peak RSS growth over the process before instrumenting
// (MiB), and the outcome (ok, or the first line of the refusal).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/onvm-network/onvm/internal/wasm/meter"
	"github.com/onvm-network/onvm/internal/wasm/meter/wasmbin"
	"github.com/tetratelabs/wazero"
)

func main() {
	shape := flag.String("shape", "", "one shape: bigfunc, bigcode, funcs, nest, nestfuncs, locals")
	n := flag.Int("n", 0, "its size")
	timeout := flag.Duration("timeout", 60*time.Second, "per measurement")
	file := flag.String("file", "", "measure this module instead")
	flag.IntVar(&nestDepth, "depth", meter.MaxNesting, "nestfuncs: the depth of each function")
	flag.BoolVar(&interpreter, "interpreter", false, "compile with the interpreter (deploy-time validation) instead of the compiler")
	flag.StringVar(&cacheDir, "cachedir", "", "compile through wazero's on-disk compilation cache in this directory")
	flag.Parse()
	if *file != "" {
		os.Exit(measureFile(*file))
	}
	if *shape != "" {
		os.Exit(measure(*shape, *n))
	}
	table := []struct {
		shape string
		sizes []int
	}{
		{"empty", []int{1}},
		// One function of n × (i32.const 0; drop): the largest accepted, then 3 million.
		{"bigfunc", []int{(meter.MaxFunctionSize - 2) / 3, 3_000_000}},
		// n functions of the largest accepted body, up to the code size limit and past it.
		{"bigcode", []int{meter.MaxCodeSize/meter.MaxFunctionSize - 1, 11}},
		{"funcs", []int{meter.MaxFunctions, 100_000}},
		{"nest", []int{meter.MaxNesting, 100_000}},
		// n functions nested meter.MaxNesting deep, up to the nesting work limit and past it.
		{"nestfuncs", []int{meter.MaxNestingWork / (meter.MaxNesting * meter.MaxNesting), 871}},
		{"locals", []int{meter.MaxTotalLocals / meter.MaxLocals, 1000}},
	}
	fmt.Printf("# %s %d cores; shape size bytes instrument_ms compile_ms rss_growth_mib outcome\n",
		time.Now().UTC().Format(time.RFC3339), numCPU())
	for _, row := range table {
		for _, size := range row.sizes {
			ctx, cancel := context.WithTimeout(context.Background(), *timeout)
			cmd := exec.CommandContext(ctx, os.Args[0], "-shape", row.shape, "-n", fmt.Sprint(size),
				fmt.Sprintf("-interpreter=%t", interpreter), "-cachedir", cacheDir, fmt.Sprintf("-depth=%d", nestDepth))
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			if err := cmd.Run(); err != nil && ctx.Err() != nil {
				fmt.Printf("%s %d - - - - timeout after %v\n", row.shape, size, *timeout)
			}
			cancel()
		}
	}
}

var (
	nestDepth   int
	interpreter bool
	cacheDir    string
)

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}

func maxRSS() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss * 1024 // KiB on Linux
}

func measureFile(name string) int {
	wasm, err := os.ReadFile(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return run(name, 0, wasm)
}

func measure(shape string, n int) int {
	wasm, err := build(shape, n)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return run(shape, n, wasm)
}

func run(shape string, n int, wasm []byte) int {
	base := maxRSS()
	start := time.Now()
	out, err := meter.Instrument(wasm, meter.DefaultConfig())
	instrument := time.Since(start)
	if err != nil {
		fmt.Printf("%s %d %d %d - %d refused: %s\n", shape, n, len(wasm), instrument.Milliseconds(),
			(maxRSS()-base)>>20, strings.SplitN(err.Error(), "\n", 2)[0])
		return 0
	}
	ctx := context.Background()
	rc := wazero.NewRuntimeConfigCompiler()
	if interpreter {
		rc = wazero.NewRuntimeConfigInterpreter()
	}
	if cacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(cacheDir)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		rc = rc.WithCompilationCache(cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	start = time.Now()
	_, err = rt.CompileModule(ctx, out)
	compile := time.Since(start)
	outcome := "ok"
	if err != nil {
		outcome = "compile error: " + strings.SplitN(err.Error(), "\n", 2)[0]
	}
	fmt.Printf("%s %d %d %d %d %d %s\n", shape, n, len(wasm), instrument.Milliseconds(), compile.Milliseconds(),
		(maxRSS()-base)>>20, outcome)
	return 0
}

// build returns a module of the shape with size n:
//
//	empty      n empty functions
//	bigfunc    one function of n × (i32.const 0; drop)
//	bigcode    n functions of meter.MaxFunctionSize bytes of (i32.const 0; drop)
//	funcs      n functions of a few instructions
//	nest       one function of n nested blocks
//	nestfuncs  n functions of meter.MaxNesting nested blocks
//	locals     n functions declaring meter.MaxLocals i64 locals each
func build(shape string, n int) ([]byte, error) {
	m := &wasmbin.Module{}
	m.Set(wasmbin.SecType, wasmbin.EncodeTypes([]wasmbin.FuncType{{}}))
	var bodies [][]byte
	switch shape {
	case "bigfunc":
		b := make([]byte, 0, 3*n+2)
		b = append(b, 0)
		for range n {
			b = append(b, 0x41, 0x00, 0x1a)
		}
		bodies = [][]byte{append(b, 0x0b)}
	case "bigcode":
		b := make([]byte, 0, meter.MaxFunctionSize)
		b = append(b, 0)
		for len(b)+4 <= meter.MaxFunctionSize {
			b = append(b, 0x41, 0x00, 0x1a)
		}
		b = append(b, 0x0b)
		for range n {
			bodies = append(bodies, b)
		}
	case "nestfuncs":
		b := nested(nestDepth)
		for range n {
			bodies = append(bodies, b)
		}
	case "empty":
		for range n {
			bodies = append(bodies, []byte{0, 0x0b})
		}
	case "funcs":
		body := []byte{0, 0x41, 0x00, 0x1a, 0x0b}
		for range n {
			bodies = append(bodies, body)
		}
	case "nest":
		bodies = [][]byte{nested(n)}
	case "locals":
		body := wasmbin.AppendU32([]byte{1}, meter.MaxLocals)
		body = append(body, wasmbin.I64, 0x0b)
		for range n {
			bodies = append(bodies, body)
		}
	default:
		return nil, fmt.Errorf("unknown shape %q", shape)
	}
	fs := wasmbin.AppendU32(nil, uint32(len(bodies)))
	for range bodies {
		fs = append(fs, 0)
	}
	m.Set(wasmbin.SecFunction, fs)
	m.Set(wasmbin.SecCode, wasmbin.EncodeCode(bodies))
	return m.Encode(), nil
}

// nested is a function body of depth nested empty blocks.
func nested(depth int) []byte {
	b := append([]byte{0}, bytes.Repeat([]byte{0x02, 0x40}, depth)...)
	return append(b, bytes.Repeat([]byte{0x0b}, depth+1)...)
}
