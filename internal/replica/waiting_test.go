package replica

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/dagtest"
	"github.com/onvm-network/onvm/internal/dag/op"
)

// TestWaitingVisible: operations kept until something arrives — a
// manifest awaiting its code, a transition awaiting that manifest — are
// counted by onvm_replica_waiting{what} and named by the sweep's log line.
func TestWaitingVisible(t *testing.T) {
	n := newBareNode(t, 0, nil, nil)
	var logs bytes.Buffer
	n.r.log = slog.New(slog.NewTextHandler(&logs, nil))
	reg := prometheus.NewRegistry()
	reg.MustRegister(gauges{n.r})
	gauge := func(name, label string) float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				if mf.GetName() == name && m.GetLabel()[0].GetValue() == label {
					return m.GetGauge().GetValue()
				}
			}
		}
		t.Fatalf("no %s{%s}", name, label)
		return 0
	}
	n.r.sweep()
	if gauge("onvm_replica_waiting", "code") != 0 || logs.Len() != 0 {
		t.Fatalf("a fresh replica waits: %v, log %q", gauge("onvm_replica_waiting", "code"), logs.String())
	}

	// Nobody serves the program's code here: the manifest and the
	// transition beside it wait.
	author := dagtest.Key(7)
	vs := dagtest.Validators(t, 3)
	m := dagtest.Manifest(t, author, vs, "waiting")
	trOp, err := dagtest.Transition(t, m, vs, 1).Op()
	if err != nil {
		t.Fatal(err)
	}
	v := dagtest.Sign(t, author, 1, nil, dag.Op{Kind: op.KindProgramDeployed, Body: m.Encode()}, trOp)
	if _, err := n.d.Add(t.Context(), "peer", v); err != nil {
		t.Fatal(err)
	}
	for what, want := range map[string]float64{"code": 1, "manifest": 1, "predecessor": 0, "job_service": 0} {
		if got := gauge("onvm_replica_waiting", what); got != want {
			t.Errorf("onvm_replica_waiting{what=%q} = %v, want %v", what, got, want)
		}
	}
	n.r.sweep()
	line := logs.String()
	if strings.Count(line, "replicated operations wait") != 1 || !strings.Contains(line, "awaiting_code=1") ||
		!strings.Contains(line, "awaiting_manifest=1") || !strings.Contains(line, m.Body.Program.String()) {
		t.Fatalf("sweep log %q: want one line naming both and the program", line)
	}
	if got := gauge("onvm_replica_queue_length", "code_verify"); got != 1 {
		t.Fatalf("code_verify queue %v after the sweep, want the program queued", got)
	}
}
