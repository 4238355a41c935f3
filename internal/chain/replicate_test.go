package chain

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/state"
)

// replicaOf returns a fresh node B holding A's manifest of p but not its
// code: it cannot execute p, only apply finalized transitions.
func replicaOf(t *testing.T, a *env, p id.Program) *env {
	t.Helper()
	b := newEnv(t, 2)
	m, err := a.engine.Manifest(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.catalog.Put(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	return b
}

// kvHistory runs the kvstore transcript on a fresh node and returns it with
// its transitions.
func kvHistory(t *testing.T) (*env, id.Program, []*Transition) {
	t.Helper()
	a := newEnv(t, 1)
	p := a.deploy(t, sample(t, "kvstore"), "onvm_main", "s")
	for _, cl := range transcript(t, "kvstore") {
		a.exec(t, p, string(cl.in))
	}
	ts, next, err := a.engine.Transitions(p, 1, 1000)
	if err != nil || next != 0 || len(ts) < 4 {
		t.Fatalf("%d transitions, next %d: %v", len(ts), next, err)
	}
	return a, p, ts
}

func TestApplyFinalizedReachesSameRoot(t *testing.T) {
	a, p, ts := kvHistory(t)
	for _, order := range []string{"in order", "reversed"} {
		t.Run(order, func(t *testing.T) {
			b := replicaOf(t, a, p)
			seq := slices.Clone(ts)
			if order == "reversed" {
				slices.Reverse(seq)
			}
			applied := 0
			for i, tr := range seq {
				// Transitions travel encoded.
				back, err := DecodeTransition(tr.Encode())
				if err != nil {
					t.Fatal(err)
				}
				st, err := b.engine.ApplyFinalized(t.Context(), back)
				if err != nil {
					t.Fatalf("apply %d: %v", i, err)
				}
				applied += st.Applied
				if order == "reversed" && i < len(seq)-1 && (!st.Buffered || st.Head.Height != 0) {
					t.Fatalf("height %d applied before its predecessors: %+v", tr.Receipt.Receipt.Height, st)
				}
			}
			if applied != len(ts) {
				t.Fatalf("applied %d of %d", applied, len(ts))
			}
			ha, _ := a.engine.Head(p)
			hb, _ := b.engine.Head(p)
			if ha != hb {
				t.Fatalf("heads differ: %+v vs %+v", ha, hb)
			}
			if rb, _ := b.state.Root(p); rb != ha.Root {
				t.Fatalf("replica state root %s, want %s", rb, ha.Root)
			}
			// Replayed again: duplicates change nothing.
			st, err := b.engine.ApplyFinalized(t.Context(), ts[0])
			if err != nil || !st.Duplicate {
				t.Fatalf("duplicate: %+v %v", st, err)
			}
			// The replica serves the same proofs and receipts.
			pr, err := b.engine.Prove(p, hb.Root, []byte("alpha"))
			if err != nil || pr.Verify() != nil || !pr.Present {
				t.Fatalf("proof on replica: %v", err)
			}
			rec, err := b.engine.Receipt(ha.Receipt)
			if err != nil || rec.Receipt.Receipt.ID() != ha.Receipt || !rec.HasOutput {
				t.Fatalf("receipt on replica: %v", err)
			}
		})
	}
}

func TestApplyFinalizedRejects(t *testing.T) {
	a, p, ts := kvHistory(t)
	c := a.committee(t, p)
	// resign returns tr with its receipt edited and validly signed by A,
	// the committee: what a faulty or malicious committee could produce.
	resign := func(tr *Transition, edit func(r *consensus.Receipt)) *Transition {
		out := *tr
		r := tr.Receipt.Receipt
		edit(&r)
		out.Receipt = *a.engine.finalize(c, 0, r)
		return &out
	}
	tests := []struct {
		name    string
		prepare int // transitions applied first
		tr      func() *Transition
		want    error
	}{
		{"flipped signature bit", 0, func() *Transition {
			out := *ts[0]
			out.Receipt.Certificate.Signature[5] ^= 1
			return &out
		}, ErrInvalidTransition},
		{"flipped receipt field", 0, func() *Transition {
			out := *ts[0]
			out.Receipt.Receipt.StateRootOut[0] ^= 1
			return &out
		}, ErrInvalidTransition},
		{"empty signer bitmap", 0, func() *Transition {
			out := *ts[0]
			out.Receipt.Certificate.Signers = []byte{0}
			return &out
		}, ErrInvalidTransition},
		{"signed by a key outside the committee", 0, func() *Transition {
			out := *ts[0]
			out.Receipt.Certificate.Signature = consensus.SignBallot(testKeys(t, 9).BLS, 0, out.Receipt.Certificate.Ballot).Signature
			return &out
		}, ErrInvalidTransition},
		{"writes not matching the digest", 0, func() *Transition {
			out := *ts[0]
			out.Writes = []state.Write{{Key: []byte("alpha"), Value: []byte("forged")}}
			return &out
		}, ErrInvalidTransition},
		{"output not matching its hash", 0, func() *Transition {
			out := *ts[0]
			out.Output = []byte("forged")
			return &out
		}, ErrInvalidTransition},
		{"wrong state root in", 0, func() *Transition {
			return resign(ts[0], func(r *consensus.Receipt) { r.StateRootIn = id.Hash{7} })
		}, ErrInvalidTransition},
		{"writes do not produce the root out", 0, func() *Transition {
			return resign(ts[0], func(r *consensus.Receipt) { r.StateRootOut = id.Hash{7} })
		}, ErrInvalidTransition},
		{"other code", 0, func() *Transition {
			return resign(ts[0], func(r *consensus.Receipt) { r.CodeHash = id.Hash{7} })
		}, ErrInvalidTransition},
		{"different transition at an applied height", 1, func() *Transition {
			return resign(ts[0], func(r *consensus.Receipt) { r.FuelUsed++ })
		}, ErrConflict},
		{"too far ahead", 0, func() *Transition {
			return resign(ts[0], func(r *consensus.Receipt) { r.Height = 5000 })
		}, ErrTooFarAhead},
		{"unknown program", 0, func() *Transition {
			return resign(ts[0], func(r *consensus.Receipt) { r.Program = id.Program{1} })
		}, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := replicaOf(t, a, p)
			for _, tr := range ts[:tt.prepare] {
				if _, err := b.engine.ApplyFinalized(t.Context(), tr); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := b.engine.Head(p)
			_, err := b.engine.ApplyFinalized(t.Context(), tt.tr())
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if after, _ := b.engine.Head(p); after != before {
				t.Fatalf("head moved: %+v → %+v", before, after)
			}
			if root, _ := b.state.Root(p); root != before.Root {
				t.Fatal("state moved")
			}
		})
	}
}

// TestBufferedBadTransitionDropped: a validly signed transition buffered
// ahead with a wrong root in is dropped when its turn comes, and the right
// one applies afterwards.
func TestBufferedBadTransitionDropped(t *testing.T) {
	a, p, ts := kvHistory(t)
	c := a.committee(t, p)
	b := replicaOf(t, a, p)
	bad := *ts[2]
	r := bad.Receipt.Receipt
	r.StateRootIn = id.Hash{7}
	bad.Receipt = *a.engine.finalize(c, 0, r)
	if st, err := b.engine.ApplyFinalized(t.Context(), &bad); err != nil || !st.Buffered {
		t.Fatalf("buffer: %+v %v", st, err)
	}
	for _, tr := range ts[:2] {
		if _, err := b.engine.ApplyFinalized(t.Context(), tr); err != nil {
			t.Fatal(err)
		}
	}
	if h, _ := b.engine.Head(p); h.Height != 2 {
		t.Fatalf("height %d, want 2", h.Height)
	}
	for _, tr := range ts[2:] {
		if _, err := b.engine.ApplyFinalized(t.Context(), tr); err != nil {
			t.Fatal(err)
		}
	}
	ha, _ := a.engine.Head(p)
	if hb, _ := b.engine.Head(p); hb != ha {
		t.Fatalf("head %+v, want %+v", hb, ha)
	}
}

func TestTransitionEncoding(t *testing.T) {
	_, _, ts := kvHistory(t)
	for _, tr := range ts {
		enc := tr.Encode()
		back, err := DecodeTransition(enc)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(back.Encode(), enc) {
			t.Fatal("re-encoding differs")
		}
	}
}

func FuzzDecodeTransition(f *testing.F) {
	k := testKeys(f, 1)
	r := consensus.Receipt{Program: id.Program{1}, Height: 1, Timestamp: 5}
	bal := consensus.Ballot{Program: r.Program, Height: 1, Step: consensus.StepPrecommit, Value: consensus.BatchRoot([]id.Hash{r.ID()})}
	agg := consensus.CertifiedBatch([]consensus.Receipt{r}, &consensus.Certificate{Ballot: bal, Signers: []byte{1}, Signature: consensus.SignBallot(k.BLS, 0, bal).Signature})[0]
	for _, tr := range []Transition{
		{Receipt: agg},
		{Receipt: agg, Writes: []state.Write{{Key: []byte("k"), Value: []byte("v")}, {Key: []byte("z"), Delete: true}}, HasOutput: true, Output: []byte("out")},
		{Receipt: agg, HasOutput: true},
	} {
		f.Add(tr.Encode())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := DecodeTransition(b)
		if err != nil {
			return
		}
		if !bytes.Equal(tr.Encode(), b) {
			t.Fatalf("accepted a non-canonical encoding: %x", b)
		}
	})
}
