package chain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/state"
	"github.com/onvm-network/onvm/internal/wasm"
)

// TestPipelinedExecutionsOneProgram: concurrent puts on one kvstore program
// overlap (each guest runs while its predecessor is sealed) and still read
// their predecessor's writes: kvstore's key index is read, changed and
// written by every put, so a guest that missed its predecessor's writes
// would drop a key. Heights and roots chain, and the final state equals
// that of the same puts executed one by one on another node.
func TestPipelinedExecutionsOneProgram(t *testing.T) {
	e := newEnv(t, 1)
	p := e.deploy(t, sample(t, "kvstore"), "onvm_main", "pipe")
	const workers, each = 4, 6
	put := func(w, i int) string {
		return fmt.Sprintf(`{"op":"put","key":"w%d-%d","data_base64":"djE="}`, w, i)
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if _, err := e.engine.Execute(t.Context(), Request{Program: p, Input: []byte(put(w, i))}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	rs, _, err := e.engine.Receipts(p, 1, 100)
	if err != nil || len(rs) != workers*each {
		t.Fatalf("%d receipts: %v", len(rs), err)
	}
	prev := state.EmptyRoot
	for i, r := range rs {
		if r.Receipt.Height != uint64(i+1) || r.Receipt.StateRootIn != prev {
			t.Fatalf("receipt %d: height %d root in %s, want %s", i, r.Receipt.Height, r.Receipt.StateRootIn, prev)
		}
		prev = r.Receipt.StateRootOut
	}
	var stats struct {
		TotalKeys int `json:"total_keys"`
	}
	if err := json.Unmarshal(e.exec(t, p, `{"op":"stats"}`).Output, &stats); err != nil || stats.TotalKeys != workers*each {
		t.Fatalf("stats: %d keys (%v), want %d", stats.TotalKeys, err, workers*each)
	}

	serial := newEnv(t, 1)
	q := serial.deploy(t, sample(t, "kvstore"), "onvm_main", "pipe")
	for i := range each {
		for w := range workers {
			serial.exec(t, q, put(w, i))
		}
	}
	if a, b := mustRoot(t, e, p), mustRoot(t, serial, q); a != b {
		t.Fatalf("root %s after concurrent puts, %s after the same puts one by one", a, b)
	}
}

func mustRoot(t *testing.T, e *env, p id.Program) id.Hash {
	t.Helper()
	r, err := e.state.Root(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestOverlayView: the view a guest reads while its predecessor is in
// flight answers exactly what the committed state answers once the
// predecessor's writes are applied, before and after they are.
func TestOverlayView(t *testing.T) {
	e := newEnv(t, 1)
	base := []state.Write{{Key: []byte("a1"), Value: []byte("one")}, {Key: []byte("a2"), Value: []byte("two")}, {Key: []byte("b1"), Value: []byte("bee")}}
	over := []state.Write{{Key: []byte("a0"), Value: []byte("new")}, {Key: []byte("a2"), Delete: true}, {Key: []byte("b1"), Value: []byte("BEE")}, {Key: []byte("c"), Delete: true}}
	p, q := id.Program{1}, id.Program{2}
	apply(t, e, p, base)
	apply(t, e, q, base)
	apply(t, e, q, over)
	view, want := overlayView{stateView{e.state, p}, over}, stateView{e.state, q}
	check := func(when string) {
		for _, k := range []string{"a0", "a1", "a2", "b1", "c", "zz"} {
			v1, ok1, err1 := view.Get([]byte(k))
			v2, ok2, err2 := want.Get([]byte(k))
			if !bytes.Equal(v1, v2) || ok1 != ok2 || err1 != nil || err2 != nil {
				t.Errorf("%s: Get(%s) = %q %v %v, want %q %v %v", when, k, v1, ok1, err1, v2, ok2, err2)
			}
		}
		for _, prefix := range []string{"", "a", "b", "c", "z"} {
			l1, err1 := view.List([]byte(prefix))
			l2, err2 := want.List([]byte(prefix))
			if diff := cmp.Diff(l2, l1); diff != "" || err1 != nil || err2 != nil {
				t.Errorf("%s: List(%q) (-want +got):\n%s %v %v", when, prefix, diff, err1, err2)
			}
		}
		extra := []wasm.Write{{Key: []byte("a1"), Delete: true}, {Key: []byte("d"), Value: []byte("dee")}}
		r1, err1 := view.Root(extra)
		r2, err2 := want.Root(extra)
		if r1 != r2 || err1 != nil || err2 != nil {
			t.Errorf("%s: Root = %s %v, want %s %v", when, r1, err1, r2, err2)
		}
	}
	check("in flight")
	apply(t, e, p, over)
	check("applied")
}

func apply(t *testing.T, e *env, p id.Program, ws []state.Write) {
	t.Helper()
	root, err := e.state.Root(p)
	if err != nil {
		t.Fatal(err)
	}
	b := e.db.NewBatch()
	defer b.Close()
	if _, err := e.state.Apply(b, p, root, ws); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
}

// TestAbandonedInflight: when the transition in flight is abandoned (its
// batch could not be applied), the execution whose guest ran against its
// writes runs again on the real head.
func TestAbandonedInflight(t *testing.T) {
	e := newEnv(t, 1)
	p := e.deploy(t, sample(t, "kvstore"), "onvm_main", "abandon")
	e.exec(t, p, `{"op":"put","key":"a","data_base64":"djE="}`)
	c := e.engine.chain(p)
	c.mu.Lock()
	real, err := e.engine.headLocked(p, c) // settles the put's own transition
	if err != nil {
		t.Fatal(err)
	}
	fl := &inflight{
		head:   Head{Height: real.Height + 1, Root: id.Hash{9}, Timestamp: real.Timestamp + 1},
		writes: []state.Write{{Key: []byte("ghost"), Value: []byte("x")}},
		done:   make(chan struct{}),
		err:    errors.New("disk full"),
	}
	close(fl.done)
	c.next = fl
	c.mu.Unlock()
	o := e.exec(t, p, `{"op":"put","key":"b","data_base64":"djE="}`)
	if r := o.Receipt.Receipt; r.Height != real.Height+1 || r.StateRootIn != real.Root {
		t.Fatalf("height %d root in %s, want %d %s", r.Height, r.StateRootIn, real.Height+1, real.Root)
	}
	if v, ok, _ := e.state.Get(p, []byte("ghost")); ok {
		t.Fatalf("the abandoned write is visible: %q", v)
	}
}
