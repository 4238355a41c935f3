package dag_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/dagtest"
	"github.com/onvm-network/onvm/internal/id"
)

// world generates a random valid DAG of several authors.
type world struct {
	t        *testing.T
	keys     []ed25519.PrivateKey
	last     []*dag.Vertex
	all      []*dag.Vertex
	rng      *rand.Rand
	nextBody int
}

func newWorld(t *testing.T, authors int, seed uint64) *world {
	w := &world{t: t, rng: rand.New(rand.NewPCG(seed, 7)), last: make([]*dag.Vertex, authors)}
	for i := range authors {
		w.keys = append(w.keys, dagtest.Key(i))
	}
	return w
}

func (w *world) step() *dag.Vertex {
	a := w.rng.IntN(len(w.keys))
	var parents, others []id.Hash
	seq := uint64(1)
	if p := w.last[a]; p != nil {
		parents = append(parents, p.ID())
		seq = p.Seq + 1
	}
	self := dagtest.Node(w.keys[a])
	for range w.rng.IntN(4) {
		if len(w.all) == 0 {
			break
		}
		c := w.all[len(w.all)-1-w.rng.IntN(min(len(w.all), 12))]
		if c.Author != self && !slices.Contains(others, c.ID()) {
			others = append(others, c.ID())
		}
	}
	slices.SortFunc(others, func(x, y id.Hash) int { return bytes.Compare(x[:], y[:]) })
	parents = append(parents, others...)
	var ops []dag.Op
	for range 1 + w.rng.IntN(3) {
		w.nextBody++
		ops = append(ops, dagtest.Op(fmt.Appendf(nil, "op-%d", w.nextBody)))
	}
	v := dagtest.Sign(w.t, w.keys[a], seq, parents, ops...)
	w.last[a] = v
	w.all = append(w.all, v)
	return v
}

type replica struct {
	d   *dag.DAG
	rec *dagtest.Recorder
}

func newReplica(t *testing.T) replica {
	rec := dagtest.NewRecorder()
	return replica{dagtest.Open(t, nil, rec), rec}
}

type summary struct {
	Heads   []id.Hash
	VV      []dag.VVEntry
	Applied []id.Hash
	Len     uint64
}

func (r replica) summary() summary {
	return summary{r.d.Heads(), r.d.VersionVector().Entries(), r.rec.Applied(), r.d.Len()}
}

// TestConvergesWhateverOrder feeds one random DAG to replicas in different
// orders, from different sources, and requires identical heads, version
// vectors and applied operations, each applied once and in causal order.
func TestConvergesWhateverOrder(t *testing.T) {
	w := newWorld(t, 5, 1)
	for range 200 {
		w.step()
	}
	ctx := t.Context()
	var want summary
	for i := range 5 {
		r := newReplica(t)
		order := slices.Clone(w.all)
		rng := rand.New(rand.NewPCG(uint64(i), 99))
		switch i {
		case 0: // causal order
		case 1:
			slices.Reverse(order)
		default:
			rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		}
		for _, v := range order {
			src := dag.Source(fmt.Sprint("peer", rng.IntN(3)))
			// Send each vertex as fresh bytes, as a peer would.
			res, err := r.d.AddRaw(ctx, src, [][]byte{v.Raw()})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rejected) > 0 {
				t.Fatalf("order %d: rejected %v", i, res.Rejected[0].Err)
			}
		}
		if errs := r.rec.Errors(); len(errs) > 0 {
			t.Fatalf("order %d: %v", i, errs[0])
		}
		if s := r.d.Stats(); s.Pending != 0 || s.Accepted != uint64(len(w.all)) {
			t.Fatalf("order %d: stats %+v", i, s)
		}
		got := r.summary()
		if i == 0 {
			want = got
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("order %d diverged (-want +got):\n%s", i, diff)
		}
	}
}

// TestProposeAndExchange runs replicas that propose concurrently and
// exchange vertices in random subsets, then fully; they converge.
func TestProposeAndExchange(t *testing.T) {
	ctx := t.Context()
	const n = 4
	rs := make([]replica, n)
	for i := range rs {
		rec := dagtest.NewRecorder()
		rs[i] = replica{dagtest.Open(t, dagtest.Key(i), rec), rec}
	}
	rng := rand.New(rand.NewPCG(3, 3))
	var made []*dag.Vertex
	for round := range 60 {
		i := rng.IntN(n)
		v, dropped, err := rs[i].d.Propose(ctx, []dag.Op{dagtest.Op(fmt.Appendf(nil, "r%d", round))})
		if err != nil || len(dropped) > 0 || v == nil {
			t.Fatalf("propose: %v %v", err, dropped)
		}
		made = append(made, v)
		for j := range rs { // partial gossip
			if j != i && rng.IntN(2) == 0 {
				if _, err := rs[j].d.Add(ctx, "gossip", mustDecode(t, v)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, r := range rs { // anti-entropy: everything everywhere
		for _, v := range made {
			if _, err := r.d.Add(ctx, "sync", mustDecode(t, v)); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := rs[0].summary()
	if len(want.Applied) != 60 {
		t.Fatalf("applied %d ops, want 60", len(want.Applied))
	}
	for i, r := range rs {
		if errs := r.rec.Errors(); len(errs) > 0 {
			t.Fatal(errs[0])
		}
		if diff := cmp.Diff(want, r.summary()); diff != "" {
			t.Fatalf("replica %d diverged:\n%s", i, diff)
		}
	}
	// Parents of a proposal include the proposer's previous vertex.
	for _, v := range made {
		if v.Seq > 1 {
			p, err := rs[0].d.Get(v.Parents[0])
			if err != nil || p.Author != v.Author || p.Seq != v.Seq-1 {
				t.Fatalf("vertex %s/%d: first parent is not its previous vertex", v.Author, v.Seq)
			}
		}
	}
}

func mustDecode(t *testing.T, v *dag.Vertex) *dag.Vertex {
	t.Helper()
	got, err := dag.Decode(v.Raw())
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestEquivocation(t *testing.T) {
	ctx := t.Context()
	key := dagtest.Key(7)
	a1 := dagtest.Sign(t, key, 1, nil, dagtest.Op([]byte("one")))
	x := dagtest.Sign(t, key, 2, []id.Hash{a1.ID()}, dagtest.Op([]byte("x")))
	y := dagtest.Sign(t, key, 2, []id.Hash{a1.ID()}, dagtest.Op([]byte("y")))
	var sums []summary
	for _, order := range [][]*dag.Vertex{{a1, x, y}, {y, a1, x}} {
		r := newReplica(t)
		for _, v := range order {
			if _, err := r.d.Add(ctx, "p", mustDecode(t, v)); err != nil {
				t.Fatal(err)
			}
		}
		// Sending either again is a duplicate, never a second application.
		res, err := r.d.Add(ctx, "p", mustDecode(t, x), mustDecode(t, y))
		if err != nil || res.Duplicates != 2 {
			t.Fatalf("re-add: %+v %v", res, err)
		}
		flags := r.d.Flagged()
		if len(flags) != 1 || flags[0].Author != dagtest.Node(key) || flags[0].Seq != 2 {
			t.Fatalf("flagged = %+v", flags)
		}
		ev, err := r.d.Equivocations(10)
		if err != nil {
			t.Fatal(err)
		}
		want := []id.Hash{x.ID(), y.ID()}
		slices.SortFunc(want, func(a, b id.Hash) int { return bytes.Compare(a[:], b[:]) })
		if len(ev) != 1 || !slices.Equal(ev[0].Vertices, want) {
			t.Fatalf("equivocations = %+v", ev)
		}
		got, err := r.d.ByAuthor(dagtest.Node(key), 2, 10)
		if err != nil || len(got) != 2 {
			t.Fatalf("ByAuthor = %d vertices, %v", len(got), err)
		}
		if errs := r.rec.Errors(); len(errs) > 0 {
			t.Fatal(errs[0])
		}
		if r.d.Stats().Equivocations != 1 {
			t.Fatalf("stats %+v", r.d.Stats())
		}
		sums = append(sums, r.summary())
	}
	if diff := cmp.Diff(sums[0], sums[1]); diff != "" {
		t.Fatalf("equivocation resolved by arrival order:\n%s", diff)
	}
	if len(sums[0].Applied) != 3 || len(sums[0].Heads) != 2 {
		t.Fatalf("summary %+v", sums[0])
	}
}

func TestRejections(t *testing.T) {
	ctx := t.Context()
	k1, k2 := dagtest.Key(1), dagtest.Key(2)
	a1 := dagtest.Sign(t, k1, 1, nil, dagtest.Op([]byte("a1")))
	b1 := dagtest.Sign(t, k2, 1, nil, dagtest.Op([]byte("b1")))
	bad := dagtest.Sign(t, k1, 2, []id.Hash{a1.ID()}, dagtest.Op([]byte("REJECT me")))
	child := dagtest.Sign(t, k2, 2, []id.Hash{b1.ID(), bad.ID()}, dagtest.Op([]byte("child")))
	grandchild := dagtest.Sign(t, k2, 3, []id.Hash{child.ID()}, dagtest.Op([]byte("gc")))
	wrongSelf := dagtest.Sign(t, k1, 2, []id.Hash{b1.ID()}, dagtest.Op([]byte("ws")))
	ownOther := dagtest.Sign(t, k2, 2, []id.Hash{b1.ID(), a1.ID()}, dagtest.Op([]byte("oo")))
	_ = ownOther
	selfAsOther := dagtest.Sign(t, k1, 1, []id.Hash{b1.ID()}, dagtest.Op([]byte("so")))
	_ = selfAsOther

	rec := dagtest.NewRecorder()
	rec.Reject = func(b []byte) error {
		if bytes.HasPrefix(b, []byte("REJECT")) {
			return errors.New("refused")
		}
		return nil
	}
	var blamed []id.Node
	d, err := dag.Open(ctx, dag.Config{DB: dagtest.DB(t), Registry: dagtest.Registry(rec),
		OnInvalidOp: func(author id.Node, kind string, _ error) {
			if kind == "test" {
				blamed = append(blamed, author)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	forged := mustDecode(t, a1)
	raw := bytes.Clone(a1.Raw())
	raw[len(raw)-1] ^= 1 // last signature byte
	tests := []struct {
		name   string
		src    dag.Source
		raws   [][]byte
		reason dag.Reason
		n      int
	}{
		{"forged signature", "evil", [][]byte{raw}, dag.ReasonSignature, 1},
		{"garbage", "evil", [][]byte{{0x01, 0x02}}, dag.ReasonMalformed, 1},
		{"oversize", "evil", [][]byte{make([]byte, dag.MaxVertexSize+1)}, dag.ReasonTooLarge, 1},
		{"descendants wait", "p2", [][]byte{b1.Raw(), grandchild.Raw(), child.Raw()}, "", 0},
		{"refused operation keeps its vertex, descendants follow", "p1", [][]byte{a1.Raw(), bad.Raw()}, "", 0},
		{"wrong self parent", "p3", [][]byte{wrongSelf.Raw()}, dag.ReasonBadParents, 1},
	}
	_ = forged
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := d.AddRaw(ctx, tt.src, tt.raws)
			if err != nil {
				t.Fatal(err)
			}
			var got []dag.Reason
			for _, r := range res.Rejected {
				if r.Reason == tt.reason {
					got = append(got, r.Reason)
				}
			}
			if len(got) != tt.n {
				t.Fatalf("rejections %+v, want %d of %s", res.Rejected, tt.n, tt.reason)
			}
		})
	}
	s := d.Stats()
	want := map[dag.Reason]uint64{dag.ReasonSignature: 1, dag.ReasonMalformed: 1, dag.ReasonTooLarge: 1,
		dag.ReasonParentRejected: 0, dag.ReasonBadParents: 1}
	for r, n := range want {
		if s.Rejected[r] != n {
			t.Errorf("rejected[%s] = %d, want %d (%+v)", r, s.Rejected[r], n, s.Rejected)
		}
	}
	if s.Pending != 0 {
		t.Errorf("pending %d after the parent arrived", s.Pending)
	}
	// The refused operation is counted and its author blamed; the vertex
	// and its descendants are kept and their operations applied.
	if s.RefusedOps["test"] != 1 || len(blamed) != 1 || blamed[0] != dagtest.Node(k1) {
		t.Errorf("refused %v, blamed %v", s.RefusedOps, blamed)
	}
	for _, v := range []*dag.Vertex{bad, child, grandchild} {
		if ok, err := d.Has(v.ID()); err != nil || !ok {
			t.Errorf("vertex %s not accepted", v.ID())
		}
	}
	if got := rec.Len(); got != 4 { // a1, b1, child, gc
		t.Errorf("applied %d operations, want 4", got)
	}
	// A vertex that descends from a rejected one is refused at once.
	orphan := dagtest.Sign(t, dagtest.Key(3), 1, []id.Hash{wrongSelf.ID()}, dagtest.Op([]byte("o")))
	res, err := d.Add(ctx, "p9", orphan)
	if err != nil || len(res.Rejected) != 1 || res.Rejected[0].Reason != dag.ReasonParentRejected {
		t.Fatalf("descendant of a rejected vertex: %+v %v", res, err)
	}
}

func TestPendingBounded(t *testing.T) {
	ctx := t.Context()
	rec := dagtest.NewRecorder()
	d, err := dag.Open(ctx, dag.Config{DB: dagtest.DB(t), Registry: dagtest.Registry(rec), MaxPendingPerSource: 3, MaxPending: 5})
	if err != nil {
		t.Fatal(err)
	}
	key := dagtest.Key(1)
	chain := []*dag.Vertex{dagtest.Sign(t, key, 1, nil, dagtest.Op([]byte("0")))}
	for i := 1; i < 8; i++ {
		chain = append(chain, dagtest.Sign(t, key, uint64(i+1), []id.Hash{chain[i-1].ID()}, dagtest.Op(fmt.Append(nil, i))))
	}
	// Orphans from one source: only the newest 3 stay.
	res, err := d.Add(ctx, "flood", chain[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	if res.Pending != 7 || res.Evicted != 4 || d.Stats().Pending != 3 {
		t.Fatalf("res %+v stats %+v", res, d.Stats())
	}
	if !slices.Contains(res.Missing, chain[4].ID()) {
		t.Fatalf("missing %v does not name the evicted parent", res.Missing)
	}
	// Another source still gets room; the total bound evicts the largest.
	other := dagtest.Sign(t, dagtest.Key(2), 2, []id.Hash{{9}}, dagtest.Op([]byte("o")))
	other2 := dagtest.Sign(t, dagtest.Key(3), 2, []id.Hash{{9}}, dagtest.Op([]byte("o2")))
	other3 := dagtest.Sign(t, dagtest.Key(4), 2, []id.Hash{{9}}, dagtest.Op([]byte("o3")))
	if _, err := d.Add(ctx, "other", other, other2, other3); err != nil {
		t.Fatal(err)
	}
	if p := d.Stats().Pending; p != 5 {
		t.Fatalf("pending %d, want 5", p)
	}
	// Filling the gaps releases what is still buffered.
	if _, err := d.Add(ctx, "p", chain[:5]...); err != nil {
		t.Fatal(err)
	}
	if vv := d.VersionVector()[dagtest.Node(key)]; vv != 8 && vv != 5 {
		t.Fatalf("vv = %d", vv)
	}
	if errs := rec.Errors(); len(errs) > 0 {
		t.Fatal(errs[0])
	}
}

var errDisk = errors.New("disk error")

// failing applies normally until armed, then fails at one body.
type failing struct {
	*dagtest.Recorder
	failAt []byte
}

func (f *failing) Apply(ctx context.Context, op dag.Op, v *dag.Vertex) error {
	if f.failAt != nil && bytes.Equal(op.Body, f.failAt) {
		return fmt.Errorf("disk on fire: %w", errDisk)
	}
	return f.Recorder.Apply(ctx, op, v)
}

// TestCrashBetweenAcceptAndApply stops application half way through a
// vertex and reopens the DAG: every operation ends applied exactly once.
func TestCrashBetweenAcceptAndApply(t *testing.T) {
	ctx := t.Context()
	db := dagtest.DB(t)
	rec := dagtest.NewRecorder()
	f := &failing{Recorder: rec, failAt: []byte("op2")}
	d, err := dag.Open(ctx, dag.Config{DB: db, Registry: dagtest.Registry(f), Key: dagtest.Key(1)})
	if err != nil {
		t.Fatal(err)
	}
	ops := []dag.Op{dagtest.Op([]byte("op0")), dagtest.Op([]byte("op1")), dagtest.Op([]byte("op2")), dagtest.Op([]byte("op3"))}
	if _, _, err := d.Propose(ctx, ops); !errors.Is(err, errDisk) {
		t.Fatalf("Propose = %v, want the apply failure", err)
	}
	if rec.Len() != 2 || d.Len() != 1 {
		t.Fatalf("before restart: applied %d, accepted %d", rec.Len(), d.Len())
	}
	// "Restart": a new DAG on the same store with a healthy handler.
	f.failAt = nil
	d2, err := dag.Open(ctx, dag.Config{DB: db, Registry: dagtest.Registry(f), Key: dagtest.Key(1)})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Len() != 4 {
		t.Fatalf("after restart: applied %d of 4", rec.Len())
	}
	if errs := rec.Errors(); len(errs) > 0 {
		t.Fatal(errs[0])
	}
	// And the next proposal builds on the recovered vertex.
	v, _, err := d2.Propose(ctx, []dag.Op{dagtest.Op([]byte("op4"))})
	if err != nil || v.Seq != 2 {
		t.Fatalf("next proposal: %v %v", v, err)
	}
	d3, err := dag.Open(ctx, dag.Config{DB: db, Registry: dagtest.Registry(f)})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Len() != 5 || len(rec.Errors()) != 0 || d3.Len() != 2 || d3.VersionVector()[dagtest.Node(dagtest.Key(1))] != 2 {
		t.Fatalf("reopened: applied %d, len %d, errs %v", rec.Len(), d3.Len(), rec.Errors())
	}
}

func TestScan(t *testing.T) {
	ctx := t.Context()
	w := newWorld(t, 3, 5)
	for range 50 {
		w.step()
	}
	src := newReplica(t)
	for _, v := range w.all {
		if _, err := src.d.Add(ctx, "p", mustDecode(t, v)); err != nil {
			t.Fatal(err)
		}
	}
	// A peer holding the first 20 vertices pulls the rest in small batches.
	dst := newReplica(t)
	for _, v := range w.all[:20] {
		if _, err := dst.d.Add(ctx, "p", mustDecode(t, v)); err != nil {
			t.Fatal(err)
		}
	}
	want := dst.d.VersionVector()
	pos, err := src.d.StartPos(want)
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	for {
		raws, next, done, err := src.d.Scan(pos, want, dag.ScanLimits{Count: 7})
		if err != nil {
			t.Fatal(err)
		}
		sent += len(raws)
		res, err := dst.d.AddRaw(ctx, "src", raws)
		if err != nil || len(res.Rejected) > 0 || res.Pending > 0 {
			t.Fatalf("batch: %+v %v", res, err)
		}
		pos = next
		if done {
			break
		}
	}
	if sent != 30 {
		t.Fatalf("sent %d vertices, want exactly the 30 missing", sent)
	}
	if diff := cmp.Diff(src.summary(), dst.summary()); diff != "" {
		t.Fatal(diff)
	}
	if p, _ := src.d.StartPos(src.d.VersionVector()); p != src.d.Len()+1 {
		t.Fatalf("StartPos of an up-to-date peer = %d", p)
	}
}

func TestProposerWithDAG(t *testing.T) {
	ctx := t.Context()
	rec := dagtest.NewRecorder()
	rec.Reject = func(b []byte) error {
		if string(b) == "bad" {
			return errors.New("no")
		}
		return nil
	}
	d := dagtest.Open(t, dagtest.Key(1), rec)
	var got []*dag.Vertex
	var dropped []error
	p, err := dag.NewProposer(d, dag.ProposerConfig{
		Announce:  func(_ context.Context, v *dag.Vertex) { got = append(got, v) },
		OnDropped: func(err error) { dropped = append(dropped, err) },
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"a", "bad", "c"} {
		if err := p.Submit(dagtest.Op([]byte(b))); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Submit(dag.Op{Kind: 77, Body: []byte("x")}); !errors.Is(err, dag.ErrUnknownKind) {
		t.Fatalf("unknown kind accepted: %v", err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// The refused operation travels in the vertex like any other (every
	// node decides it when applying) and is counted, not applied.
	if len(got) != 1 || len(got[0].Ops) != 3 || len(dropped) != 0 || rec.Len() != 2 || d.Stats().RefusedOps["test"] != 1 {
		t.Fatalf("announced %d, dropped %v, applied %d, refused %v", len(got), dropped, rec.Len(), d.Stats().RefusedOps)
	}
	if ok, _ := d.Has(got[0].ID()); !ok {
		t.Fatal("announced vertex not stored")
	}
	if _, err := dag.NewProposer(dagtest.Open(t, nil, nil), dag.ProposerConfig{}); !errors.Is(err, dag.ErrNoKey) {
		t.Fatalf("proposer without key: %v", err)
	}
}
