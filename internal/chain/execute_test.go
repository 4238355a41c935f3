package chain

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/state"
	"github.com/onvm-network/onvm/internal/wasm"
)

// TestTranscripts replays each sample's transcript as transitions of one
// deployed program: outputs are exact, heights contiguous, receipts verify
// against the committee and chain root to root.
func TestTranscripts(t *testing.T) {
	e := newEnv(t, 1)
	for _, name := range []string{"echo", "kvstore", "analytics", "job-test"} {
		t.Run(name, func(t *testing.T) {
			p := e.deploy(t, sample(t, name), "onvm_main", "s")
			c := e.committee(t, p)
			prev := state.EmptyRoot
			for i, cl := range transcript(t, name) {
				o := e.exec(t, p, string(cl.in))
				if !bytes.Equal(o.Output, cl.out) {
					t.Fatalf("%s: got\n%s\nwant\n%s", cl.name, o.Output, cl.out)
				}
				r := &o.Receipt.Receipt
				if r.Height != uint64(i+1) || r.StateRootIn != prev || r.OutputHash != id.Sum(cl.out) || r.FuelUsed != o.FuelUsed {
					t.Fatalf("%s: receipt %+v", cl.name, r)
				}
				if err := o.Receipt.Verify(c); err != nil {
					t.Fatalf("%s: %v", cl.name, err)
				}
				prev = r.StateRootOut
			}
			head, err := e.engine.Head(p)
			if err != nil || head.Root != prev {
				t.Fatalf("head %+v, %v; want root %s", head, err, prev)
			}
			if root, _ := e.state.Root(p); root != prev {
				t.Fatalf("state root %s, want %s", root, prev)
			}
		})
	}
}

// TestSameRootsOnTwoNodes runs the same operations on two fresh nodes
// (different keys) and compares roots after every step.
func TestSameRootsOnTwoNodes(t *testing.T) {
	a, b := newEnv(t, 1), newEnv(t, 2)
	code := sample(t, "kvstore")
	pa, pb := a.deploy(t, code, "onvm_main", "x"), b.deploy(t, code, "onvm_main", "x")
	if pa != pb {
		t.Fatalf("same code and salt, ids %s and %s", pa, pb)
	}
	for _, cl := range transcript(t, "kvstore") {
		oa, ob := a.exec(t, pa, string(cl.in)), b.exec(t, pb, string(cl.in))
		ra, rb := oa.Receipt.Receipt, ob.Receipt.Receipt
		if ra.StateRootOut != rb.StateRootOut || ra.WriteDigest != rb.WriteDigest || ra.FuelUsed != rb.FuelUsed {
			t.Fatalf("%s: nodes diverge: %s/%s", cl.name, ra.StateRootOut, rb.StateRootOut)
		}
	}
}

func TestExecuteFailuresLeaveStateUnchanged(t *testing.T) {
	e := newEnv(t, 1)
	kv := e.deploy(t, sample(t, "kvstore"), "onvm_main", "s")
	e.exec(t, kv, `{"op":"put","key":"a","data_base64":"djE="}`)
	lim := limitsWasm(t)
	progs := map[string]id.Program{}
	for _, entry := range []string{"spin", "panic", "bomb", "huge", "recurse", "div0"} {
		progs[entry] = e.deploy(t, lim, entry, entry)
	}
	tests := []struct {
		name    string
		p       id.Program
		req     Request
		kind    wasm.ErrorKind
		message string
	}{
		{"out of fuel", kv, Request{Input: []byte(`{"op":"put","key":"b","data_base64":"djI="}`), Fuel: 20_000}, wasm.KindOutOfFuel, ""},
		{"timeout stops a spinning guest that wrote", progs["spin"], Request{Timeout: 50e6, Fuel: 500_000_000}, wasm.KindTimeout, ""},
		{"trap with the guest's message", progs["panic"], Request{}, wasm.KindTrap, "boom: invariant violated"},
		{"trap without message", progs["div0"], Request{}, wasm.KindTrap, ""},
		{"out of memory", progs["bomb"], Request{}, wasm.KindOutOfMemory, ""},
		{"output too large", progs["huge"], Request{}, wasm.KindOutputTooLarge, ""},
		{"call depth", progs["recurse"], Request{}, wasm.KindCallDepth, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, err := e.engine.Head(tt.p)
			if err != nil {
				t.Fatal(err)
			}
			tt.req.Program = tt.p
			_, err = e.engine.Execute(t.Context(), tt.req)
			var we *wasm.Error
			if !errors.As(err, &we) || we.Kind != tt.kind {
				t.Fatalf("got %v, want kind %s", err, tt.kind)
			}
			if tt.kind != wasm.KindTimeout && we.FuelUsed == 0 {
				t.Fatalf("no fuel reported: %+v", we)
			}
			if tt.message != "" && !bytes.Contains([]byte(we.Error()), []byte(tt.message)) && !logsContain(we.Logs, tt.message) {
				t.Fatalf("message %q not in %v / %v", tt.message, we, we.Logs)
			}
			after, err := e.engine.Head(tt.p)
			if err != nil || after != before {
				t.Fatalf("head moved: %+v → %+v (%v)", before, after, err)
			}
			if root, _ := e.state.Root(tt.p); root != before.Root {
				t.Fatalf("state root moved to %s", root)
			}
		})
	}
}

func logsContain(ls []wasm.Log, s string) bool {
	for _, l := range ls {
		if bytes.Contains([]byte(l.Message), []byte(s)) {
			return true
		}
	}
	return false
}

func TestExecuteRejects(t *testing.T) {
	e := newEnv(t, 1)
	p := e.deploy(t, sample(t, "echo"), "onvm_main", "s")
	tests := []struct {
		name string
		req  Request
		want error
	}{
		{"unknown program", Request{Program: id.Program{1}}, ErrNotFound},
		{"input too large", Request{Program: p, Input: make([]byte, 1<<20+1)}, ErrInputTooLarge},
		{"request id too long", Request{Program: p, RequestID: string(make([]byte, MaxRequestID+1))}, ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.engine.Execute(t.Context(), tt.req); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRequestIDIdempotent(t *testing.T) {
	e := newEnv(t, 1)
	p := e.deploy(t, sample(t, "kvstore"), "onvm_main", "s")
	put := []byte(`{"op":"put","key":"k","data_base64":"djE="}`)
	first, err := e.engine.Execute(t.Context(), Request{Program: p, Input: put, RequestID: "job-1"})
	if err != nil || first.Replayed {
		t.Fatalf("first: %v %+v", err, first)
	}
	again, err := e.engine.Execute(t.Context(), Request{Program: p, Input: put, RequestID: "job-1"})
	if err != nil || !again.Replayed || !bytes.Equal(again.Output, first.Output) || again.ReceiptID() != first.ReceiptID() {
		t.Fatalf("replay: %v %+v", err, again)
	}
	if h, _ := e.engine.Head(p); h.Height != 1 {
		t.Fatalf("replay applied again: height %d", h.Height)
	}
	if _, err := e.engine.Execute(t.Context(), Request{Program: p, Input: []byte(`{"op":"list"}`), RequestID: "job-1"}); !errors.Is(err, ErrRequestConflict) {
		t.Fatalf("other input under the same id: %v", err)
	}
	if first.Receipt.Receipt.RequestID != RequestKey(p, "job-1") || RequestKey(p, "job-1") != id.Hash(id.JobOf(p, "job-1")) {
		t.Fatal("receipt request id is not the job id")
	}
	// Concurrent requests with one id execute once.
	var wg sync.WaitGroup
	outs := make([]*Outcome, 8)
	for i := range outs {
		wg.Go(func() {
			o, err := e.engine.Execute(t.Context(), Request{Program: p, Input: put, RequestID: "job-2"})
			if err != nil {
				t.Error(err)
			}
			outs[i] = o
		})
	}
	wg.Wait()
	fresh := 0
	for _, o := range outs {
		if o != nil && !o.Replayed {
			fresh++
		}
	}
	if h, _ := e.engine.Head(p); fresh != 1 || h.Height != 2 {
		t.Fatalf("%d fresh executions, height %d", fresh, h.Height)
	}
}

// TestParallelPrograms runs many executions on several programs at once:
// each program's heights are contiguous and its roots chain.
func TestParallelPrograms(t *testing.T) {
	e := newEnv(t, 1)
	code := sample(t, "kvstore")
	const programs, each = 2, 8
	ps := make([]id.Program, programs)
	for i := range ps {
		ps[i] = e.deploy(t, code, "onvm_main", fmt.Sprint(i))
	}
	var wg sync.WaitGroup
	for i := range programs * 2 {
		wg.Go(func() {
			for j := range each / 2 {
				in := fmt.Sprintf(`{"op":"put","key":"k%d-%d","data_base64":"djE="}`, i, j)
				if _, err := e.engine.Execute(t.Context(), Request{Program: ps[i%programs], Input: []byte(in)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for _, p := range ps {
		rs, next, err := e.engine.Receipts(p, 1, 100)
		if err != nil || next != 0 || len(rs) != each {
			t.Fatalf("%d receipts (next %d): %v", len(rs), next, err)
		}
		prev := state.EmptyRoot
		for i, r := range rs {
			if r.Receipt.Height != uint64(i+1) || r.Receipt.StateRootIn != prev {
				t.Fatalf("receipt %d: height %d root in %s, want %s", i, r.Receipt.Height, r.Receipt.StateRootIn, prev)
			}
			prev = r.Receipt.StateRootOut
		}
		if root, _ := e.state.Root(p); root != prev {
			t.Fatal("state root is not the last receipt's")
		}
	}
}

func TestLogicalTimestampsIncrease(t *testing.T) {
	// A clock stuck in the past still gives strictly increasing timestamps.
	e := newEnv(t, 1, withClock(func() time.Time { return time.UnixMilli(1000) }))
	p := e.deploy(t, sample(t, "echo"), "onvm_main", "s")
	var last int64
	for range 3 {
		ts := e.exec(t, p, "x").Receipt.Receipt.Timestamp
		if ts <= last {
			t.Fatalf("timestamp %d after %d", ts, last)
		}
		last = ts
	}
}
