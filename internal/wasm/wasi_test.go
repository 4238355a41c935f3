package wasm

import (
	"bytes"
	"encoding/binary"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const secretEnv = "ONVM_IDENTITY_PASSPHRASE"

// TestWASISandbox is the S1 regression test (a guest could read the host's
// environment, including the identity passphrase) plus the rest of the WASI
// sandbox: logical clocks, seeded randomness, captured stdout/stderr.
func TestWASISandbox(t *testing.T) {
	t.Setenv(secretEnv, "hunter2-do-not-leak")
	if os.Getenv(secretEnv) == "" {
		t.Fatal("setenv failed")
	}
	const ts = 1_700_000_000_000
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			r := newTestRuntime(t, eng.interpreter)
			run := func(requestID byte) *Result {
				res, err := r.Run(t.Context(), Call{Code: fixture(t, "wasi"), Entrypoint: "run", Timestamp: ts, RequestID: [32]byte{requestID}})
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			res := run(1)
			out := res.Output
			count, size := binary.LittleEndian.Uint32(out), binary.LittleEndian.Uint32(out[4:])
			if count != 0 || size != 0 || bytes.Contains(out, []byte("hunter2")) {
				t.Fatalf("guest sees %d environment variables (%d bytes): %q", count, size, out[56:])
			}
			u64 := func(i int) uint64 { return binary.LittleEndian.Uint64(out[8+8*i:]) }
			if rt := u64(0); rt != ts*1e6+clockTick {
				t.Errorf("realtime = %d, want the logical timestamp %d + %d", rt, uint64(ts*1e6), clockTick)
			}
			if u64(1) <= u64(0) || u64(3) <= u64(2) {
				t.Errorf("clocks do not advance: %d %d %d %d", u64(0), u64(1), u64(2), u64(3))
			}
			if mono := u64(2); mono > 1e6 {
				t.Errorf("monotonic = %d, want logical time since the call started", mono)
			}
			wantLogs := []Log{
				{SourceStdout, LevelInfo, "hello from stdout"},
				{SourceStderr, LevelWarn, "warning on stderr"},
				{SourceStdout, LevelInfo, "second line"},
			}
			if diff := cmp.Diff(wantLogs, res.Logs); diff != "" {
				t.Errorf("logs (-want +got):\n%s", diff)
			}
			again, other := run(1), run(2)
			if diff := cmp.Diff(res, again); diff != "" {
				t.Errorf("second run differs:\n%s", diff)
			}
			if bytes.Equal(res.Output[40:56], other.Output[40:56]) {
				t.Error("random bytes do not depend on the request id")
			}
		})
	}
}

// TestGoGuest runs a Go wasip1 reactor: _initialize, onvm_alloc, the WASI
// calls the Go runtime makes, a goroutine, a sleep, a panic.
func TestGoGuest(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a 2.6 MB Go module")
	}
	t.Setenv(secretEnv, "hunter2-do-not-leak")
	r := sharedRuntime(t)
	call := Call{Code: fixture(t, "goguest"), Entrypoint: "probe", Input: []byte("abc"), Timestamp: 1_700_000_000_000, RequestID: [32]byte{3}}
	res, err := r.Run(t.Context(), call)
	if err != nil {
		t.Fatal(err)
	}
	got := string(res.Output)
	for _, want := range []string{
		`secret=""`, "environ=0", "now=1700000000000", "slept=true", "goroutine=3",
		"sha256=ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "open=true",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	wantLogs := []Log{{SourceStdout, LevelInfo, "go guest: probe"}, {SourceStderr, LevelWarn, "go guest: to stderr"}}
	if diff := cmp.Diff(wantLogs, res.Logs); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
	again, err := r.Run(t.Context(), call)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(res, again); diff != "" {
		t.Errorf("second run differs:\n%s", diff)
	}
	_, err = r.Run(t.Context(), Call{Code: fixture(t, "goguest"), Entrypoint: "crash"})
	e := checkKind(t, nil, err, KindTrap, "panic: guest gave up")
	if len(e.Logs) == 0 {
		t.Error("no logs with the panic")
	}
}
