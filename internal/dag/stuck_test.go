package dag_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/dagtest"
	"github.com/onvm-network/onvm/internal/id"
)

// TestStuckApplicationVisible: an operation whose handler fails (without
// refusing it) holds back the DAG; the vertex is counted by the
// onvm_dag_vertices_unapplied gauge and named in a log line written at
// most every 10 s however often it is retried, and both clear once it
// applies.
func TestStuckApplicationVisible(t *testing.T) {
	ctx := t.Context()
	var logs bytes.Buffer
	now := time.Unix(1_700_000_000, 0)
	f := &failing{Recorder: dagtest.NewRecorder(), failAt: []byte("op1")}
	d, err := dag.Open(ctx, dag.Config{DB: dagtest.DB(t), Registry: dagtest.Registry(f), Key: dagtest.Key(1),
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(d.Collector())
	unapplied := func() float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "onvm_dag_vertices_unapplied" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("no onvm_dag_vertices_unapplied gauge")
		return 0
	}
	lines := func() int { return strings.Count(logs.String(), "the DAG waits for it") }
	if unapplied() != 0 {
		t.Fatalf("unapplied %v on a fresh DAG", unapplied())
	}

	v, _, err := d.Propose(ctx, []dag.Op{dagtest.Op([]byte("op0")), dagtest.Op([]byte("op1"))})
	if !errors.Is(err, errDisk) {
		t.Fatalf("Propose = %v %v, want the apply failure", v, err)
	}
	for range 3 { // retried at every insertion
		if _, err := d.Add(ctx, dag.Local); !errors.Is(err, errDisk) {
			t.Fatalf("Add = %v, want the apply failure", err)
		}
	}
	if got := unapplied(); got != 1 || d.Stats().Unapplied != 1 {
		t.Fatalf("unapplied %v (stats %d), want 1", got, d.Stats().Unapplied)
	}
	if n := lines(); n != 1 || !strings.Contains(logs.String(), "kind=test") || !strings.Contains(logs.String(), "op=1") {
		t.Fatalf("%d log lines, want 1 naming the operation:\n%s", n, logs.String())
	}
	now = now.Add(10 * time.Second)
	if _, err := d.Add(ctx, dag.Local); !errors.Is(err, errDisk) {
		t.Fatalf("Add = %v, want the apply failure", err)
	}
	if n := lines(); n != 2 {
		t.Fatalf("%d log lines 10 s later, want 2", n)
	}

	f.failAt = nil
	if _, err := d.Add(ctx, dag.Local); err != nil {
		t.Fatal(err)
	}
	if got := unapplied(); got != 0 || f.Len() != 2 {
		t.Fatalf("after the handler recovered: unapplied %v, applied %d of 2", got, f.Len())
	}
}

// TestWaitingParentsLogged: vertices waiting for a parent are counted by
// onvm_dag_vertices_pending and named, with the parent, in a log line
// written at most every 30 s.
func TestWaitingParentsLogged(t *testing.T) {
	var logs bytes.Buffer
	now := time.Unix(1_700_000_000, 0)
	d, err := dag.Open(t.Context(), dag.Config{DB: dagtest.DB(t), Registry: dagtest.Registry(dagtest.NewRecorder()),
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	author := dagtest.Key(5)
	v1 := dagtest.Sign(t, author, 1, nil, dagtest.Op([]byte("a")))
	v2 := dagtest.Sign(t, author, 2, []id.Hash{v1.ID()}, dagtest.Op([]byte("b")))
	v3 := dagtest.Sign(t, author, 3, []id.Hash{v2.ID()}, dagtest.Op([]byte("c")))
	lines := func() int { return strings.Count(logs.String(), "vertices wait for their parents") }
	for i, v := range []*dag.Vertex{v3, v2} {
		if _, err := d.Add(t.Context(), "peer", v); err != nil {
			t.Fatal(err)
		}
		if lines() != 1 {
			t.Fatalf("after %d waiting vertices: %d log lines, want 1:\n%s", i+1, lines(), logs.String())
		}
	}
	if !strings.Contains(logs.String(), "parent="+v2.ID().String()) || d.Stats().Pending != 2 {
		t.Fatalf("pending %d, log %q: want 2 and the missing parent named", d.Stats().Pending, logs.String())
	}
	now = now.Add(30 * time.Second)
	v4 := dagtest.Sign(t, author, 4, []id.Hash{v3.ID()}, dagtest.Op([]byte("d")))
	if _, err := d.Add(t.Context(), "peer", v4); err != nil {
		t.Fatal(err)
	}
	if lines() != 2 {
		t.Fatalf("%d log lines 30 s later, want 2", lines())
	}
	if _, err := d.Add(t.Context(), "peer", v1); err != nil || d.Stats().Pending != 0 {
		t.Fatalf("after the missing vertex arrived: pending %d, %v", d.Stats().Pending, err)
	}
}
