package wasm

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestCallingConventions(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB: the original wrote it over address 0
	cases := []struct {
		fixture, entry string
		input          []byte
		want           []byte
	}{
		{"echo_multi", "run", []byte("hello"), []byte("hello")},
		{"echo_packed", "run", []byte("hello"), []byte("hello")},
		{"echo_sret", "run", []byte("hello"), []byte("hello")},
		{"echo_multi", "run", nil, []byte{}},
		{"echo_sret", "run", nil, []byte{}},
		{"echo_multi", "run", big, big},
		{"echo_multi", "guard", big, []byte("guard")},
		{"echo_packed", "guard", big, []byte("guard")},
		{"echo_sret", "guard", big, []byte("guard")},
		{"alloc", "run", []byte("hello"), []byte("init\x01hello")},
		{"alloc", "run", big, append([]byte("init\x01"), big...)},
		{"alloc", "run", nil, []byte("init\x01")},
	}
	for _, eng := range engines {
		r := newTestRuntime(t, eng.interpreter)
		for _, c := range cases {
			t.Run(eng.name+"/"+c.fixture+"/"+c.entry, func(t *testing.T) {
				res, err := r.Run(t.Context(), Call{Code: fixture(t, c.fixture), Entrypoint: c.entry, Input: c.input, MaxOutput: 2 << 20})
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(res.Output, c.want) {
					t.Errorf("output = %.40q (%d bytes), want %.40q (%d bytes)", res.Output, len(res.Output), c.want, len(c.want))
				}
				if res.FuelUsed == 0 {
					t.Error("no fuel used")
				}
			})
		}
	}
}

func TestRunRejects(t *testing.T) {
	r := newTestRuntime(t, false)
	cases := []struct {
		name    string
		call    Call
		kind    ErrorKind
		message string
	}{
		{"no entrypoint", Call{Code: fixture(t, "echo_multi")}, KindInvalidInput, "no entrypoint"},
		{"missing entrypoint", Call{Code: fixture(t, "echo_multi"), Entrypoint: "nope"}, KindInvalidInput, "program must export nope as"},
		{"wrong signature", Call{Code: fixture(t, "echo_multi"), Entrypoint: "wrong"}, KindInvalidModule, "program must export wrong as"},
		{"input too large", Call{Code: fixture(t, "echo_multi"), Entrypoint: "run", Input: make([]byte, 11), MaxInput: 10}, KindInvalidInput, "input is 11 bytes, the limit is 10"},
		{"garbage", Call{Code: []byte("\x00asm\x01\x00\x00\x00\xff"), Entrypoint: "run"}, KindInvalidModule, "compile program"},
		{"not metered", Call{Code: rawFixture(t, "echo_multi"), Entrypoint: "run"}, KindInvalidModule, "not metered"},
		{"unknown import", Call{Code: rawFixture(t, "wasi"), Entrypoint: "run", unmetered: true, CodeHash: [32]byte{1}}, 0, ""},
		{"memory minimum over limit", Call{Code: fixture(t, "alloc"), Entrypoint: "run", MemoryLimit: 64 << 10}, KindOutOfMemory, "needs 2 pages"},
		{"no room for the input", Call{Code: fixture(t, "echo_multi"), Entrypoint: "run", Input: make([]byte, 100_000), MemoryLimit: 128 << 10}, KindOutOfMemory, "no room for the 100000-byte input"},
		{"lying allocator", Call{Code: fixture(t, "alloc_bad"), Entrypoint: "run", Input: []byte("x")}, KindTrap, "onvm_alloc(1) returned 2147483632"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := r.Run(t.Context(), c.call)
			if c.kind == 0 {
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				return
			}
			checkKind(t, res, err, c.kind, c.message)
		})
	}
}

// checkKind asserts a typed failure with a message containing message.
func checkKind(t *testing.T, res *Result, err error, kind ErrorKind, message string) *Error {
	t.Helper()
	if res != nil {
		t.Fatalf("got a result (writes %v), want %v", res.Writes, kind)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *Error", err)
	}
	if !errors.Is(err, kind) || KindOf(err) != kind {
		t.Fatalf("kind = %v (%v), want %v", e.Kind, err, kind)
	}
	if !bytes.Contains([]byte(e.Message), []byte(message)) {
		t.Errorf("message = %q, want it to contain %q", e.Message, message)
	}
	return e
}

func TestLimits(t *testing.T) {
	cases := []struct {
		entry   string
		call    Call
		kind    ErrorKind
		message string
	}{
		{"count", Call{Input: []byte{0, 0, 0, 1}, Fuel: 100_000}, KindOutOfFuel, "fuel budget of 100000 exhausted"},
		{"spin", Call{Fuel: 100_000}, KindOutOfFuel, ""},
		{"bomb", Call{}, KindOutOfMemory, "limit of 67108864 bytes"},
		{"bomb", Call{MemoryLimit: 1 << 20}, KindOutOfMemory, "limit of 1048576 bytes"},
		{"recurse", Call{}, KindCallDepth, "call depth"},
		{"huge", Call{}, KindOutputTooLarge, "output is 2097152 bytes, the limit is 1048576"},
		{"oob", Call{}, KindTrap, "outside memory"},
		{"negative", Call{}, KindTrap, "negative output pointer"},
		{"panic", Call{}, KindTrap, "unreachable: boom: invariant violated"},
		{"div0", Call{}, KindTrap, "integer divide by zero"},
		{"exit", Call{}, KindTrap, "exit code 7: boom"},
	}
	for _, eng := range engines {
		r := newTestRuntime(t, eng.interpreter)
		for _, c := range cases {
			t.Run(eng.name+"/"+c.entry+"/"+c.kind.String(), func(t *testing.T) {
				c.call.Code, c.call.Entrypoint = fixture(t, "limits"), c.entry
				start := time.Now()
				res, err := r.Run(t.Context(), c.call)
				e := checkKind(t, res, err, c.kind, c.message)
				if e.FuelUsed == 0 {
					t.Error("FuelUsed = 0")
				}
				if c.kind == KindOutOfFuel && e.FuelUsed != c.call.Fuel {
					t.Errorf("FuelUsed = %d, want the whole budget %d", e.FuelUsed, c.call.Fuel)
				}
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("took %v", d)
				}
			})
		}
	}
	t.Run("polite grow succeeds", func(t *testing.T) {
		r := newTestRuntime(t, false)
		res, err := r.Run(t.Context(), Call{Code: fixture(t, "limits"), Entrypoint: "polite", MemoryLimit: 2 << 20})
		if err != nil {
			t.Fatal(err)
		}
		if pages := res.Output[0]; pages > 32 {
			t.Errorf("memory grew to %d pages, limit 32", pages)
		}
	})
}

// TestInterrupt stops infinite loops with a huge fuel budget by timeout and
// by cancellation, and checks the stop latency: a loop without calls, one
// that only writes state first, and one that calls the host in every
// iteration (stopped at a checkpoint in the guest or in the host's charge).
func TestInterrupt(t *testing.T) {
	const huge = 1 << 60
	for _, eng := range engines {
		r := newTestRuntime(t, eng.interpreter)
		// Compile first so that the measured latency is only the stop.
		if _, err := r.Run(t.Context(), Call{Code: fixture(t, "limits"), Entrypoint: "count", Input: []byte{1, 0, 0, 0}}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Run(t.Context(), Call{Code: fixture(t, "hostloop"), Entrypoint: "calls", Input: []byte{1, 0, 0, 0}}); err != nil {
			t.Fatal(err)
		}
		slack := 50 * time.Millisecond
		if eng.interpreter {
			slack = 250 * time.Millisecond // a checkpoint interval takes longer, under -race even more
		}
		for _, c := range []struct{ fixture, entry string }{{"limits", "forever"}, {"limits", "spin"}, {"hostloop", "calls"}} {
			call := Call{Code: fixture(t, c.fixture), Entrypoint: c.entry, Input: []byte{0xff, 0xff, 0xff, 0xff}, Fuel: huge}
			// The machine is shared: a stop later than the slack is retried
			// twice before it counts, so only a systematic delay fails.
			t.Run(eng.name+"/"+c.entry+"/timeout", func(t *testing.T) {
				const timeout = 100 * time.Millisecond
				var late time.Duration
				for attempt := 0; attempt < 3; attempt++ {
					start := time.Now()
					call := call
					call.Timeout = timeout
					res, err := r.Run(t.Context(), call)
					late = time.Since(start) - timeout
					checkKind(t, res, err, KindTimeout, "")
					t.Logf("stopped %v after the deadline", late)
					if late <= slack {
						return
					}
				}
				t.Errorf("stopped %v after the deadline, want ≤ %v", late, slack)
			})
			t.Run(eng.name+"/"+c.entry+"/cancel", func(t *testing.T) {
				var late time.Duration
				for attempt := 0; attempt < 3; attempt++ {
					ctx, cancel := context.WithCancel(t.Context())
					var cancelled atomic.Int64
					timer := time.AfterFunc(50*time.Millisecond, func() { cancelled.Store(time.Now().UnixNano()); cancel() })
					call := call
					call.Timeout = -1
					res, err := r.Run(ctx, call)
					late = time.Since(time.Unix(0, cancelled.Load()))
					timer.Stop()
					cancel()
					checkKind(t, res, err, KindCancelled, "")
					if late <= slack {
						return
					}
				}
				t.Errorf("stopped %v after cancel, want ≤ %v", late, slack)
			})
		}
		t.Run(eng.name+"/deadline", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			res, err := r.Run(ctx, Call{Code: fixture(t, "limits"), Entrypoint: "forever", Fuel: huge, Timeout: -1})
			checkKind(t, res, err, KindTimeout, "")
		})
		t.Run(eng.name+"/already cancelled", func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			res, err := r.Run(ctx, Call{Code: fixture(t, "limits"), Entrypoint: "forever"})
			checkKind(t, res, err, KindCancelled, "not started")
		})
	}
}
