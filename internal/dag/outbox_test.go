package dag_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/dagtest"
)

// commitWith commits a marker key and op's outbox entry in one batch, as a
// component commits what it reports together with the operation that
// reports it.
func commitWith(t *testing.T, db *pebble.DB, d *dag.DAG, marker string, op dag.Op) {
	t.Helper()
	b := db.NewBatch()
	defer b.Close()
	if err := b.Set([]byte("x/"+marker), nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.Outbox().Stage(b, op); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
}

// TestOutboxSurvivesRestart: an operation staged with a commit travels in
// the node's next vertex even when the node stops before proposing it, and
// in exactly one vertex.
func TestOutboxSurvivesRestart(t *testing.T) {
	ctx := t.Context()
	db := dagtest.DB(t)
	rec := dagtest.NewRecorder()
	open := func() *dag.DAG {
		d, err := dag.Open(ctx, dag.Config{DB: db, Registry: dagtest.Registry(rec), Key: dagtest.Key(1)})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := open()
	commitWith(t, db, d, "a", dagtest.Op([]byte("a")))
	commitWith(t, db, d, "b", dagtest.Op([]byte("b")))

	// A batch that never commits leaves nothing behind.
	b := db.NewBatch()
	if err := d.Outbox().Stage(b, dagtest.Op([]byte("never"))); err != nil {
		t.Fatal(err)
	}
	_ = b.Close()

	d = open() // the "crash": nothing was proposed
	if n, err := d.Outbox().Len(); err != nil || n != 2 {
		t.Fatalf("outbox holds %d (%v) after restart, want 2", n, err)
	}
	commitWith(t, db, d, "c", dagtest.Op([]byte("c"))) // staged after the restart: after a and b
	v, dropped, err := d.ProposeNext(ctx)
	if err != nil || len(dropped) != 0 || v == nil {
		t.Fatalf("ProposeNext = %v, %v, %v", v, dropped, err)
	}
	var got []string
	for _, op := range v.Ops {
		got = append(got, string(op.Body))
	}
	if fmt.Sprint(got) != "[a b c]" {
		t.Fatalf("vertex carries %v, want [a b c] in staging order", got)
	}
	if v, _, err := d.ProposeNext(ctx); v != nil || err != nil {
		t.Fatalf("second ProposeNext = %v, %v: the entries travelled twice", v, err)
	}
	d = open()
	if n, _ := d.Outbox().Len(); n != 0 || rec.Len() != 3 || d.Len() != 1 {
		t.Fatalf("after reopening: outbox %d, applied %d, vertices %d", n, rec.Len(), d.Len())
	}
	if errs := rec.Errors(); len(errs) > 0 {
		t.Fatal(errs[0])
	}
}

// TestOutboxRefusesWhatCannotTravel: Stage checks an operation statelessly
// so that the caller's commit fails rather than leaving an entry no vertex
// can carry.
func TestOutboxRefusesWhatCannotTravel(t *testing.T) {
	db := dagtest.DB(t)
	d, err := dag.Open(t.Context(), dag.Config{DB: db, Registry: dagtest.Registry(dagtest.NewRecorder()), Key: dagtest.Key(1)})
	if err != nil {
		t.Fatal(err)
	}
	b := db.NewBatch()
	defer b.Close()
	for _, op := range []dag.Op{{Kind: 77, Body: []byte("x")}, dagtest.Op(nil), dagtest.Op(make([]byte, dag.MaxOpSize+1))} {
		if err := d.Outbox().Stage(b, op); !errors.Is(err, dag.ErrUnknownKind) && !errors.Is(err, dag.ErrInvalidOp) {
			t.Errorf("Stage(kind %d, %d bytes) = %v", op.Kind, len(op.Body), err)
		}
	}
	if b.Count() != 0 {
		t.Fatalf("refused operations left %d entries in the batch", b.Count())
	}
}

// TestOutboxSplitsIntoVertices: a backlog larger than a vertex goes out in
// as many vertices as needed, through the proposer, in order.
func TestOutboxSplitsIntoVertices(t *testing.T) {
	ctx := t.Context()
	db := dagtest.DB(t)
	rec := dagtest.NewRecorder()
	d, err := dag.Open(ctx, dag.Config{DB: db, Registry: dagtest.Registry(rec), Key: dagtest.Key(1)})
	if err != nil {
		t.Fatal(err)
	}
	const n = dag.MaxOps + 5
	b := db.NewBatch()
	for i := range n {
		if err := d.Outbox().Stage(b, dagtest.Op(fmt.Appendf(nil, "op%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	p, err := dag.NewProposer(d, dag.ProposerConfig{Announce: func(_ context.Context, v *dag.Vertex) { sizes = append(sizes, len(v.Ops)) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sizes) != fmt.Sprint([]int{dag.MaxOps, 5}) || rec.Len() != n {
		t.Fatalf("vertices of %v operations, %d applied; want [%d 5], %d", sizes, rec.Len(), dag.MaxOps, n)
	}
}
