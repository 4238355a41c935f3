package chain

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onvm-network/onvm/internal/wasm"
)

// bigPuts is the input of the runtime's hostcalls fixture for n calls of
// onvm_state_put, each setting the 1-byte key i to the size bytes of guest
// memory at address 0 (see internal/wasm/testdata/hostcalls.c).
func bigPuts(n, size int) []byte {
	in := []byte{byte(n)}
	for i := range n {
		in = append(in, 1) // onvm_state_put
		for _, a := range []uint32{0x40000000 + uint32(i), 1, 0, uint32(size), 0, 0, 0} {
			in = binary.LittleEndian.AppendUint32(in, a)
		}
	}
	for i := range n {
		in = append(in, byte(i)) // the keys, in the payload
	}
	return in
}

// TestExecuteWriteSetLimit checks that an execution whose staged writes
// exceed the engine's write-set limit fails with the runtime's clear error
// and commits nothing (head, root and records as they were), while one
// just under it commits.
func TestExecuteWriteSetLimit(t *testing.T) {
	e := newEnv(t, 1)
	if got := e.engine.Limits().MaxWriteSet; got != MaxWriteSet {
		t.Fatalf("default write-set limit %d, want %d", got, MaxWriteSet)
	}
	code, err := os.ReadFile(filepath.Join("..", "wasm", "testdata", "hostcalls.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	p := e.deploy(t, code, "call", "writes")
	const value = 64 << 10
	per := wasm.WriteSize(1, value)
	under, over := MaxWriteSet/per, MaxWriteSet/per+1

	ok := e.exec(t, p, string(bigPuts(under, value)))
	if ok.Receipt.Receipt.Height != 1 {
		t.Fatalf("height %d after the first execution", ok.Receipt.Receipt.Height)
	}
	ts, _, err := e.engine.Transitions(p, 1, 1)
	if err != nil || len(ts) != 1 || len(ts[0].Writes) != under {
		t.Fatalf("committed transition: %v, %v", ts, err)
	}

	before, err := e.engine.Head(p)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.engine.Execute(t.Context(), Request{Program: p, Input: bigPuts(over, value)})
	var we *wasm.Error
	if !errors.As(err, &we) || we.Kind != wasm.KindWritesTooLarge {
		t.Fatalf("got %v, want %s", err, wasm.KindWritesTooLarge)
	}
	if !strings.Contains(we.Message, "the limit is 1048576") || we.FuelUsed == 0 {
		t.Fatalf("error %+v: want the limit named and the fuel used", we)
	}
	after, err := e.engine.Head(p)
	if err != nil || after != before {
		t.Fatalf("head moved: %+v → %+v (%v)", before, after, err)
	}
	if root, _ := e.state.Root(p); root != before.Root {
		t.Fatalf("state root moved to %s", root)
	}
	if ts, _, err := e.engine.Transitions(p, 2, 1); err != nil || len(ts) != 0 {
		t.Fatalf("a transition at height 2 was recorded: %v, %v", ts, err)
	}
	// The next execution takes height 2.
	if o := e.exec(t, p, string(bigPuts(1, 1))); o.Receipt.Receipt.Height != 2 {
		t.Fatalf("height %d after the refused execution", o.Receipt.Receipt.Height)
	}
}

func TestLimitsWriteSet(t *testing.T) {
	for _, tt := range []struct {
		set, want int
	}{{0, MaxWriteSet}, {-1, MaxWriteSet}, {100, 100}, {MaxWriteSet + 1, MaxWriteSet}} {
		if got := (Limits{MaxWriteSet: tt.set}).withDefaults().MaxWriteSet; got != tt.want {
			t.Errorf("MaxWriteSet %d → %d, want %d", tt.set, got, tt.want)
		}
	}
}
