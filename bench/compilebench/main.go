// Command compilebench measures what a node pays to instrument and compile modules of the
// hostile shapes the module limits bound (docs/security.md "Module limits"): one big
// function, many functions, deep nesting, many locals. Each measurement runs in a child
// process so that its peak RSS is its own.
//
//	go run ./bench/compilebench                 the default table of shapes and sizes
//	go run ./bench/compilebench -shape nest -n 100000   one measurement
//	go run ./bench/compilebench -interpreter    compile with the interpreter, as deploy-time validation does
//	go run ./bench/compilebench -workers 2      compile each module with 2 goroutines
//	go run ./bench/compilebench -cachedir DIR   compile through wazero's on-disk cache in DIR; a
//	                                            second run measures what a restarted node pays
//
// Run it from the repository root. The first rows are the run's baselines: "empty" (a module
// of one empty function, the cost of a compilation as such) and "kvstore" (the kvstore Go
// guest, examples/kvstore/kvstore.wasm: ordinary code, against which every later row's
// instrument + compile time is given as a ratio, so that figures from a loaded machine
// compare). It prints, per line: shape, size, module bytes, instrument ms, compile ms
// (wazero's compiler engine, as nodes use), peak RSS growth over the process before
// instrumenting (MiB), the ratio to kvstore and the outcome (ok, or the first line of the
// refusal).
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
	"github.com/tetratelabs/wazero/experimental"
)

func main() {
	shape := flag.String("shape", "", "one shape: empty, kvstore, golike, bigfunc, bigcode, funcs, nest, nestfuncs, blocks, loops, ifs, locals")
	n := flag.Int("n", 0, "its size")
	timeout := flag.Duration("timeout", 60*time.Second, "per measurement")
	file := flag.String("file", "", "measure this module instead")
	flag.IntVar(&nestDepth, "depth", meter.MaxNesting, "nestfuncs: the depth of each function")
	flag.BoolVar(&interpreter, "interpreter", false, "compile with the interpreter (deploy-time validation) instead of the compiler")
	flag.StringVar(&cacheDir, "cachedir", "", "compile through wazero's on-disk compilation cache in this directory")
	flag.IntVar(&workers, "workers", 1, "compile with this many goroutines (wazero's compilation workers)")
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
		{"kvstore", []int{1}},
		// kvstore's functions repeated up to n bytes of code: Go-like code at the code size limit.
		{"golike", []int{meter.MaxCodeSize}},
		// One function of n × (i32.const 0; drop): the largest accepted, then 3 million.
		{"bigfunc", []int{(meter.MaxFunctionSize - 2) / 3, 3_000_000}},
		// n functions of the largest accepted body, up to the code size limit and past it.
		{"bigcode", []int{meter.MaxCodeSize/meter.MaxFunctionSize - 1, 11}},
		{"funcs", []int{meter.MaxFunctions, 100_000}},
		{"nest", []int{meter.MaxNesting, 100_000}},
		// n functions nested meter.MaxNesting deep, up to the nesting work limit and past it.
		{"nestfuncs", []int{largest, largest + 1}},
		// n functions nested 300 deep (a few more than Go guests): the most blocks at a
		// moderate depth.
		{"nestfuncs300", []int{largest, largest + 1}},
		// One function of n blocks, loops, ifs or br_ifs one level deep: the largest
		// accepted (the most branch work in one function), the next size, and 20 000 loops.
		{"blocks", []int{largest, largest + 1}},
		{"loops", []int{largest, largest + 1, 20_000}},
		{"ifs", []int{largest, largest + 1}},
		{"brifs", []int{largest, largest + 1}},
		// n loops in functions of 10: the most blocks of a module.
		{"loopfuncs", []int{largest, largest + 1}},
		{"locals", []int{meter.MaxTotalLocals / meter.MaxLocals, 1000}},
	}
	fmt.Printf("# %s %d cores; shape size bytes instrument_ms compile_ms rss_growth_mib x_kvstore outcome\n",
		time.Now().UTC().Format(time.RFC3339), numCPU())
	var baseline float64 // kvstore's instrument + compile ms
	for _, row := range table {
		for _, size := range row.sizes {
			if size >= largest {
				size = largestAccepted(row.shape) + size - largest
			}
			ctx, cancel := context.WithTimeout(context.Background(), *timeout)
			cmd := exec.CommandContext(ctx, os.Args[0], "-shape", row.shape, "-n", fmt.Sprint(size),
				fmt.Sprintf("-interpreter=%t", interpreter), "-cachedir", cacheDir, fmt.Sprintf("-depth=%d", nestDepth), fmt.Sprintf("-workers=%d", workers))
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			cancel()
			if err != nil && ctx.Err() != nil {
				fmt.Printf("%s %d - - - - - timeout after %v\n", row.shape, size, *timeout)
				continue
			}
			line := strings.TrimSpace(string(out))
			f := strings.SplitN(line, " ", 7)
			var inst, comp float64
			if len(f) == 7 {
				_, e1 := fmt.Sscan(f[3], &inst)
				_, e2 := fmt.Sscan(f[4], &comp)
				ratio := "-"
				if e1 == nil && e2 == nil {
					if row.shape == "kvstore" {
						baseline = inst + comp
					}
					if baseline > 0 {
						ratio = fmt.Sprintf("%.2f", (inst+comp)/baseline)
					}
				}
				f[6] = ratio + " " + f[6]
				line = strings.Join(f, " ")
			}
			fmt.Println(line)
		}
	}
}

// largest in a table row stands for the largest size of the shape that meter.CheckLimits
// accepts (largest+1 for the next size).
const largest = 1 << 40

// largestAccepted returns the largest n for which build(shape, n) passes meter.CheckLimits.
func largestAccepted(shape string) int {
	ok := func(n int) bool {
		wasm, err := build(shape, n)
		return err == nil && meter.CheckLimits(wasm) == nil
	}
	lo, hi := 0, 1 // ok(lo); find a refused hi
	for ok(hi) {
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 {
		if mid := (lo + hi) / 2; ok(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// kvstorePath is the baseline module, relative to the repository root.
const kvstorePath = "examples/kvstore/kvstore.wasm"

var (
	nestDepth   int
	interpreter bool
	cacheDir    string
	workers     int
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
	ctx = experimental.WithCompilationWorkers(ctx, workers)
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
//	nestfuncs300  n functions of 300 nested blocks
//	blocks, loops, ifs, brifs  one function of n blocks (loops, ifs, br_ifs) one level deep
//	loopfuncs  n loops in functions of 10
//	kvstore    the kvstore Go guest (n is ignored)
//	golike     the kvstore guest with its functions repeated until its code section has n bytes
//	nestfuncs  n functions of meter.MaxNesting nested blocks
//	locals     n functions declaring meter.MaxLocals i64 locals each
func build(shape string, n int) ([]byte, error) {
	switch shape {
	case "kvstore":
		return os.ReadFile(kvstorePath)
	case "golike":
		return goLike(n)
	}
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
	case "nestfuncs300":
		b := nested(300)
		for range n {
			bodies = append(bodies, b)
		}
	case "blocks", "loops", "ifs", "brifs":
		bodies = [][]byte{flat(shape, n)}
	case "loopfuncs":
		for left := n; left > 0; left -= 10 {
			bodies = append(bodies, flat("loops", min(left, 10)))
		}
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

// flat is a function body of n blocks, loops, ifs or br_ifs one after the other.
func flat(shape string, n int) []byte {
	if shape == "brifs" { // block (i32.const 0; br_if 0)×n end
		b := append([]byte{0, 0x02, 0x40}, bytes.Repeat([]byte{0x41, 0x00, 0x0d, 0x00}, n)...)
		return append(b, 0x0b, 0x0b)
	}
	// block: 02 40 0b; loop: 03 40 0b; if: i32.const 0 (41 00) 04 40 0b.
	unit := map[string][]byte{"blocks": {0x02, 0x40, 0x0b}, "loops": {0x03, 0x40, 0x0b}, "ifs": {0x41, 0x00, 0x04, 0x40, 0x0b}}[shape]
	return append(append([]byte{0}, bytes.Repeat(unit, n)...), 0x0b)
}

// nested is a function body of depth nested empty blocks.
func nested(depth int) []byte {
	b := append([]byte{0}, bytes.Repeat([]byte{0x02, 0x40}, depth)...)
	return append(b, bytes.Repeat([]byte{0x0b}, depth+1)...)
}

// goLike returns the kvstore guest with copies of its functions appended (same types, same
// bodies, calling the same functions) until its code section holds about n bytes: ordinary
// compiled Go code of a chosen size.
func goLike(n int) ([]byte, error) {
	wasm, err := os.ReadFile(kvstorePath)
	if err != nil {
		return nil, err
	}
	m, err := wasmbin.Decode(wasm)
	if err != nil {
		return nil, err
	}
	sigs, err := wasmbin.DecodeFunctions(m.Sections[m.Find(wasmbin.SecFunction)].Payload)
	if err != nil {
		return nil, err
	}
	bodies, err := wasmbin.DecodeCode(m.Sections[m.Find(wasmbin.SecCode)].Payload)
	if err != nil {
		return nil, err
	}
	size := len(m.Sections[m.Find(wasmbin.SecCode)].Payload)
	for i := 0; size+len(bodies[i%len(bodies)])+8 < n; i++ {
		b := bodies[i%len(bodies)]
		sigs, bodies = append(sigs, sigs[i%len(sigs)]), append(bodies, b)
		size += len(b) + len(wasmbin.AppendU32(nil, uint32(len(b))))
	}
	fs := wasmbin.AppendU32(nil, uint32(len(sigs)))
	for _, t := range sigs {
		fs = wasmbin.AppendU32(fs, t)
	}
	m.Set(wasmbin.SecFunction, fs)
	m.Set(wasmbin.SecCode, wasmbin.EncodeCode(bodies))
	return m.Encode(), nil
}
