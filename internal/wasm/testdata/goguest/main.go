//go:build wasip1

// Command goguest is a Go wasip1 reactor (go build -buildmode=c-shared) used
// by the runtime's tests: it exercises what the Go runtime needs from WASI
// (clocks, random, fd_write, sched_yield, poll_oneoff, environ) and gives
// the benchmark a Go workload. It exports onvm_alloc so that the host's
// input placement cannot collide with the Go heap.
package main

import (
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"time"
	"unsafe"
)

func main() {}

// pinned keeps buffers handed to the host alive.
var pinned = map[uintptr][]byte{}

func pin(b []byte) uint32 {
	if len(b) == 0 {
		b = make([]byte, 1)[:0:1]
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	pinned[p] = b
	return uint32(p)
}

//go:wasmexport onvm_alloc
func alloc(size uint32) uint32 { return pin(make([]byte, size)) }

func input(ptr, n uint32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(uintptr(ptr))), n)
}

func packed(out []byte) uint64 { return uint64(pin(out))<<32 | uint64(len(out)) }

// probe reports what the guest can observe of its environment.
//
//go:wasmexport probe
func probe(ptr, n uint32) uint64 {
	in := input(ptr, n)
	start := time.Now()
	os.Stdout.WriteString("go guest: probe\n")
	os.Stderr.WriteString("go guest: to stderr\n")
	var out []byte
	line := func(k, v string) { out = append(append(append(append(out, k...), '='), v...), '\n') }
	line("secret", strconv.Quote(os.Getenv("ONVM_IDENTITY_PASSPHRASE")))
	line("environ", strconv.Itoa(len(os.Environ())))
	line("now", strconv.FormatInt(start.UnixNano(), 10))
	time.Sleep(25 * time.Millisecond)
	line("slept", strconv.FormatBool(time.Since(start) >= 25*time.Millisecond))
	line("rand", strconv.FormatInt(rand.Int64(), 10))
	var b [8]byte
	_, _ = crand.Read(b[:])
	line("crand", hex.EncodeToString(b[:]))
	done := make(chan int)
	go func() { done <- len(in) }()
	line("goroutine", strconv.Itoa(<-done))
	sum := sha256.Sum256(in)
	line("sha256", hex.EncodeToString(sum[:]))
	_, err := os.Open("/etc/passwd")
	line("open", strconv.FormatBool(err != nil))
	return packed(out)
}

// work sorts the input as u32 LE and returns its SHA-256: the Go workload of
// the benchmark.
//
//go:wasmexport work
func work(ptr, n uint32) uint64 {
	in := input(ptr, n)
	xs := make([]uint32, len(in)/4)
	for i := range xs {
		xs[i] = binary.LittleEndian.Uint32(in[4*i:])
	}
	slices.Sort(xs)
	buf := make([]byte, 4*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint32(buf[4*i:], x)
	}
	sum := sha256.Sum256(buf)
	return packed(sum[:])
}

// crash panics: the Go runtime prints to stderr and exits with code 2.
//
//go:wasmexport crash
func crash(ptr, n uint32) uint64 { panic("guest gave up") }
