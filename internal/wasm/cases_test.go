package wasm

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"
)

// fuelCase is one deterministic call used by the golden-fuel, differential
// and determinism tests.
type fuelCase struct {
	name    string
	fixture string
	call    Call
	slow    bool // the Go guest: skipped with -short and on the interpreter
}

func u32s(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, 4*n)
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint32(b[4*i:], rng.Uint32())
	}
	return b
}

func fuelCases(t testing.TB) []fuelCase {
	state := func() *fakeState {
		return &fakeState{kv: map[string][]byte{"a1": []byte("one"), "a2": []byte("two"), "b1": []byte("bee")}}
	}
	hostOps := hostInput([]hop{
		{opPut, []uint32{rel(0), 2, rel(2), 5}},
		{opGet, []uint32{rel(0), 2, rel(7), 16}},
		{opDel, []uint32{rel(23), 2}},
		{opList, []uint32{rel(23), 1, rel(25), 64}},
		{opRoot, []uint32{rel(89)}},
		{opLog, []uint32{2, rel(2), 5}},
		{opRandom, []uint32{rel(121), 8}},
		{opHash, []uint32{2, rel(0), 121, rel(129), 32}},
		{opNow, nil},
	}, append([]byte("k1value"), make([]byte, 160)...))
	copy(hostOps[len(hostOps)-160+16:], "a1") // the key deleted and listed at payload offset 23
	c := func(name, fixture, entry string, input []byte, mod func(*Call)) fuelCase {
		fc := fuelCase{name: name, fixture: fixture, call: Call{Entrypoint: entry, Input: input, Timestamp: 1_700_000_000_000, RequestID: [32]byte{5}}}
		if mod != nil {
			mod(&fc.call)
		}
		return fc
	}
	cases := []fuelCase{
		c("echo_multi", "echo_multi", "run", []byte("hello"), nil),
		c("echo_packed", "echo_packed", "run", []byte("hello"), nil),
		c("echo_sret", "echo_sret", "run", []byte("hello"), nil),
		c("alloc", "alloc", "run", []byte("hello"), nil),
		c("count_1000", "limits", "count", []byte{0xe8, 0x03, 0, 0}, nil),
		c("out_of_fuel", "limits", "count", []byte{0, 0, 0, 1}, func(c *Call) { c.Fuel = 1_000_000 }),
		c("bomb", "limits", "bomb", nil, func(c *Call) { c.MemoryLimit = 4 << 20 }),
		c("recurse", "limits", "recurse", nil, nil),
		c("panic", "limits", "panic", nil, nil),
		c("huge", "limits", "huge", nil, nil),
		c("hostcalls", "hostcalls", "call", hostOps, func(c *Call) { c.State = state() }),
		c("wasi", "wasi", "run", nil, nil),
		c("msort_1000", "msort", "sort", u32s(1000, 1), nil),
		c("msort_20000", "msort", "sort", u32s(20_000, 2), func(c *Call) { c.Fuel = 1 << 30 }),
		c("go_probe", "goguest", "probe", []byte("abc"), nil),
		c("go_work_10000", "goguest", "work", u32s(10_000, 3), nil),
	}
	for i := range cases {
		if cases[i].fixture == "goguest" {
			cases[i].slow = true
		}
	}
	return cases
}

// outcome is what a call produced, for comparisons.
type outcome struct {
	Result *Result
	Kind   ErrorKind
	Fuel   uint64
	Logs   []Log
}

func runCase(t testing.TB, r *Runtime, fc fuelCase, unmetered bool) outcome {
	t.Helper()
	call := fc.call
	if unmetered {
		call.Code, call.unmetered = rawFixture(t, fc.fixture), true
	} else {
		call.Code = fixture(t, fc.fixture)
	}
	if s, ok := call.State.(*fakeState); ok { // fresh state per run
		cp := &fakeState{kv: map[string][]byte{}}
		for k, v := range s.kv {
			cp.kv[k] = v
		}
		call.State = cp
	}
	if call.Timeout == 0 {
		// No wall-clock limit: these calls compare deterministic outcomes, and
		// a shared, loaded machine (or the interpreter under -race) must not
		// turn one into a timeout. The test's own deadline still stops a
		// runaway call, at its next checkpoint.
		call.Timeout = -1
	}
	res, err := r.Run(t.Context(), call)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: %v", fc.name, err)
		}
		return outcome{Kind: e.Kind, Fuel: e.FuelUsed, Logs: e.Logs}
	}
	return outcome{Result: res, Fuel: res.FuelUsed}
}
