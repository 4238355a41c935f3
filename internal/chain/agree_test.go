package chain

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/onvm-network/onvm/internal/bft"
	"github.com/onvm-network/onvm/internal/committee"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/identity"
	"github.com/onvm-network/onvm/internal/wasm"
)

// net is an in-memory transport between the members of a test committee:
// a message to a member that is down is lost.
type net struct {
	mu     sync.Mutex
	shells map[id.Node]*committee.Shell
	down   map[id.Node]bool
}

type netFrom struct {
	n    *net
	self id.Node
}

func (t netFrom) Send(to id.Node, p id.Program, msg []byte) {
	t.n.mu.Lock()
	s, down := t.n.shells[to], t.n.down[to] || t.n.down[t.self]
	t.n.mu.Unlock()
	if s == nil || down {
		return
	}
	go func() { _ = s.Receive(t.self, p, msg) }()
}

// shellRef lets an engine reach the shell built after it.
type shellRef struct{ s *committee.Shell }

func (r *shellRef) Wake(p id.Program) error          { return r.s.Wake(p) }
func (r *shellRef) Submit(p id.Program, call []byte) { r.s.Submit(p, call) }

// agreeCluster is n engines on one n-member committee of program p
// (kvstore), each with its committee shell.
type agreeCluster struct {
	envs []*env
	p    id.Program
	net  *net
}

func newAgreeCluster(t *testing.T, n int) *agreeCluster {
	t.Helper()
	var keys []*identity.Keys
	var vs []consensus.Validator
	for i := range n {
		k := testKeys(t, byte(20+i))
		keys = append(keys, k)
		vs = append(vs, validatorOf(k))
	}
	cl := &agreeCluster{net: &net{shells: map[id.Node]*committee.Shell{}, down: map[id.Node]bool{}}}
	timeouts := bft.Timeouts{Propose: 300 * time.Millisecond, Prevote: 100 * time.Millisecond, Precommit: 100 * time.Millisecond, Delta: 100 * time.Millisecond}
	for i := range n {
		ref := &shellRef{}
		e := newEnv(t, byte(20+i), func(o *Options) {
			o.Validators = func() []consensus.Validator { return vs }
			o.CommitteeSize = n
			o.Agree = ref
		})
		ref.s = committee.New(committee.Config{
			DB: e.db, Self: keys[i].Node(), Key: keys[i].BLS, App: e.engine.App(),
			Transport: netFrom{cl.net, keys[i].Node()}, Timeouts: timeouts, Resend: 200 * time.Millisecond,
		})
		t.Cleanup(func() { ref.s.Close() })
		cl.net.shells[keys[i].Node()] = ref.s
		cl.envs = append(cl.envs, e)
	}
	cl.p = cl.envs[0].deploy(t, sample(t, "kvstore"), "onvm_main", "agree")
	m, err := cl.envs[0].engine.Manifest(cl.p)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Body.Committee.Members) != n {
		t.Fatalf("committee of %d members", len(m.Body.Committee.Members))
	}
	r, err := cl.envs[0].blobs.Open(t.Context(), m.Body.Instrumented)
	if err != nil {
		t.Fatal(err)
	}
	code, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range cl.envs[1:] {
		if _, _, err := e.blobs.Put(t.Context(), bytes.NewReader(code), "application/wasm"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.catalog.Put(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	return cl
}

// stop takes member i off the network (a crash, as far as the others can
// tell).
func (cl *agreeCluster) stop(i int) {
	cl.net.mu.Lock()
	cl.net.down[cl.envs[i].keys.Node()] = true
	cl.net.mu.Unlock()
}

// waitHeads polls until every live member's head is at height h with one
// root.
func (cl *agreeCluster) waitHeads(t *testing.T, h uint64, skip ...int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var roots []id.Hash
		ok := true
		for i, e := range cl.envs {
			if slices.Contains(skip, i) {
				continue
			}
			head, err := e.engine.Head(cl.p)
			if err != nil {
				t.Fatal(err)
			}
			ok = ok && head.Height == h
			roots = append(roots, head.Root)
		}
		for _, r := range roots {
			ok = ok && r == roots[0]
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("heads did not reach height %d with one root", h)
		}
		time.Sleep(20 * time.Millisecond) // polling, not synchronising: the condition is checked again
	}
}

// TestAgreedExecutions: a four-member committee finalizes executions sent
// to any member; each answer carries a receipt certified by a quorum that
// verifies against the manifest's committee, every member ends with the
// same state, and with one member down executions keep succeeding.
func TestAgreedExecutions(t *testing.T) {
	cl := newAgreeCluster(t, 4)
	c := cl.envs[0].committee(t, cl.p)
	put := func(e *env, k, v string) *Outcome {
		t.Helper()
		o, err := e.engine.Execute(t.Context(), Request{Program: cl.p, Input: fmt.Appendf(nil, `{"op":"put","key":%q,"value":%q}`, k, v), RequestID: "put-" + k})
		if err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
		if err := o.Receipt.Verify(c); err != nil {
			t.Fatalf("receipt of put %s: %v", k, err)
		}
		return o
	}
	for i, e := range cl.envs {
		put(e, fmt.Sprint("k", i), fmt.Sprint("v", i))
	}
	cl.waitHeads(t, 4)

	// The same request id again: the first outcome, not a new height.
	again, err := cl.envs[2].engine.Execute(t.Context(), Request{Program: cl.p, Input: []byte(`{"op":"put","key":"k0","value":"v0"}`), RequestID: "put-k0"})
	if err != nil || !again.Replayed {
		t.Fatalf("replay: %+v %v", again, err)
	}

	// One member of four down: f = 1, the rest still decide.
	cl.stop(3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() { put(cl.envs[i], fmt.Sprint("after", i), "x") })
	}
	wg.Wait()
	cl.waitHeads(t, 7, 3)
	o := put(cl.envs[1], "last", "y")
	if n := signers(o.Receipt.Certificate.Signers); n < 3 {
		t.Fatalf("certificate of %d signers", n)
	}
	cl.waitHeads(t, 8, 3) // the answering member committed; the others may still be committing
	for _, e := range cl.envs[:3] {
		rec, err := e.engine.Receipt(o.ReceiptID())
		if err != nil || rec.Transition.Receipt.Receipt.ID() != o.ReceiptID() {
			t.Fatalf("receipt on a member: %v", err)
		}
	}
}

// TestAgreedFailureAnsweredEverywhere: a call that fails where it is
// executed (here: out of fuel) is answered with that failure on whichever
// member took it, not left to expire there, and commits nothing.
func TestAgreedFailureAnsweredEverywhere(t *testing.T) {
	cl := newAgreeCluster(t, 4)
	for i, e := range cl.envs {
		ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
		_, err := e.engine.Execute(ctx, Request{Program: cl.p, Input: []byte(`{"op":"put","key":"k","value":"v"}`), Fuel: 1, RequestID: fmt.Sprint("starved-", i)})
		cancel()
		if !errors.Is(err, wasm.ErrOutOfFuel) {
			t.Fatalf("member %d: %v, want out_of_fuel", i, err)
		}
	}
	// Every member dropped each call on the news of its failure: it ran
	// once (or, should the news be late, twice), not once on every member
	// leading a round until the one that took it.
	runs := uint64(0)
	for _, e := range cl.envs {
		runs += e.engine.failedRuns.Load()
	}
	if runs > 6 {
		t.Fatalf("four failing calls ran %d times", runs)
	}
	for i, e := range cl.envs {
		if head, err := e.engine.Head(cl.p); err != nil || head.Height != 0 {
			t.Fatalf("member %d at height %d (%v) after failed calls", i, head.Height, err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for e.engine.pending(cl.p).len() != 0 { // the failures' news may still be on its way
			if time.Now().After(deadline) {
				t.Fatalf("member %d keeps %d failed calls pending", i, e.engine.pending(cl.p).len())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func signers(bitmap []byte) int {
	n := 0
	for _, b := range bitmap {
		n += bits.OnesCount8(b)
	}
	return n
}

// FuzzDecodeBatch: a member's proposed content decodes strictly, or not
// at all, and a decoded batch has the shape Validate relies on.
func FuzzDecodeBatch(f *testing.F) {
	r := consensus.Receipt{Program: id.Program{1}, Height: 5}
	good := batchContent{Calls: []batchCall{{Input: []byte("in"), Fuel: 10, Receipt: r}}}
	r.Height = 6
	good.Calls = append(good.Calls, batchCall{Receipt: r})
	f.Add(good.encode())
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeBatch(b)
		if err != nil {
			return
		}
		if !bytes.Equal(c.encode(), b) {
			t.Fatal("accepted a non-canonical encoding")
		}
		for i := range c.Calls {
			if c.Calls[i].Receipt.Height != c.Calls[0].Receipt.Height+uint64(i) {
				t.Fatal("heights not consecutive")
			}
		}
	})
}
