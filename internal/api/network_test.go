package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/dagtest"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/p2p"
)

// fakeNetwork answers GET /peers with fixed peers.
type fakeNetwork struct{}

func (fakeNetwork) Self() p2p.SelfInfo {
	return p2p.SelfInfo{ID: "12D3KooWself", Node: id.Node{1}, Addrs: []string{"/ip4/127.0.0.1/tcp/37000/p2p/12D3KooWself"}}
}

func (fakeNetwork) Peers() []p2p.PeerInfo {
	return []p2p.PeerInfo{
		{ID: "12D3KooWpeer", Node: id.Node{2}, Addrs: []string{"/ip4/127.0.0.1/tcp/37001"}, Direction: "Outbound",
			ConnectedSince: fixedNow, Latency: 412 * time.Microsecond, AgentVersion: "onvm/test", ONVM: true},
		{ID: "12D3KooWcrawler", Addrs: []string{"/ip4/10.0.0.9/tcp/4001"}, Direction: "Inbound", ConnectedSince: fixedNow, AgentVersion: "kubo"},
	}
}

// testDAG is a DAG holding one vertex of this node: a blob publication.
func testDAG(t *testing.T) (*dag.DAG, id.Hash) {
	t.Helper()
	db, err := pebble.Open("dag", &pebble.Options{FS: vfs.NewMem(), Logger: quietPebble{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	key := dagtest.Key(1)
	d, err := dag.Open(context.Background(), dag.Config{DB: db, Registry: op.Registry(), Key: key, Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	o, err := op.BlobPublished{Blob: id.BlobOf([]byte("x")), Size: 1, Mime: "text/plain", Publisher: dagtest.Node(key)}.Op()
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := d.Propose(context.Background(), []dag.Op{o})
	if err != nil {
		t.Fatal(err)
	}
	return d, v.ID()
}

func TestNetworkRoutes(t *testing.T) {
	d, vid := testDAG(t)
	n := newTestNode(t, func(o *Options) {
		o.Network, o.DAG, o.MinPeers = fakeNetwork{}, d, 1
	})
	for _, tt := range []struct{ name, path string }{
		{"peers", "/peers"},
		{"dag_heads", "/dag/heads"},
		{"dag_vertex", "/dag/vertices/" + vid.String()},
		{"dag_vertex_unknown", "/dag/vertices/" + strings.Repeat("00", 32)},
		{"dag_vertex_bad_id", "/dag/vertices/xyz"},
		{"dag_authors", "/dag/authors"},
		{"dag_equivocations", "/dag/equivocations"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := n.do("GET", tt.path, nil, nil)
			golden(t, tt.name+".json", goldenResponse(t, resp, b))
		})
	}
}

// TestMinPeersGate refuses executions and job submissions with 503
// min_peers while the gate is closed, and nothing else.
func TestMinPeersGate(t *testing.T) {
	n := newTestNode(t, func(o *Options) {
		o.Gate = func() error { return p2p.ErrNotEnoughPeers }
	})
	for _, tt := range []struct {
		method, path string
		gated        bool
	}{
		{"POST", "/execute", true},
		{"POST", "/jobs", true},
		{"POST", "/jobs/" + strings.Repeat("00", 32) + "/cancel", false},
		{"GET", "/blobs/" + id.BlobOf(nil).String(), false},
		{"GET", "/health", false},
		{"GET", "/health/readiness", true},
	} {
		resp, b := n.do(tt.method, tt.path, nil, strings.NewReader("{}"))
		got := resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(string(b), `"min_peers"`) // readiness: its reason
		if got != tt.gated {
			t.Errorf("%s %s: %d %s; gated %v, want %v", tt.method, tt.path, resp.StatusCode, b, got, tt.gated)
		}
	}
}
