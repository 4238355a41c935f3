package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/internal/config"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/job"
	"github.com/onvm-network/onvm/internal/program"
)

// clusterNode is one node of an in-process cluster.
type clusterNode struct {
	n *Node
	c *client.Client
}

// startWith runs a node on dir with cfg until the test ends.
func startWith(t testing.TB, dir string, cfg config.Config) clusterNode {
	t.Helper()
	x, stop := runWith(t, dir, cfg)
	t.Cleanup(stop)
	return x
}

// runWith runs a node on dir with cfg until stop is called.
func runWith(t testing.TB, dir string, cfg config.Config) (clusterNode, func()) {
	t.Helper()
	if !IsInitialized(dir) {
		if _, err := Init(InitOptions{DataDir: dir, AllowPlaintext: true}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := New(t.Context(), Options{DataDir: dir, Config: cfg, Dev: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := contextWithCancel(t)
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			if err := n.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	c, err := client.New(n.RPCURL())
	if err != nil {
		stop()
		t.Fatal(err)
	}
	return clusterNode{n, c}, stop
}

// startCluster starts size nodes; every node but the first has the first
// as its bootnode. mode[i] sets node i's blob sync mode.
func startCluster(t testing.TB, size int, mode ...string) []clusterNode {
	t.Helper()
	return startClusterWith(t, size, func(i int, cfg *config.Config) {
		if i < len(mode) && mode[i] != "" {
			cfg.Storage.BlobSyncMode = mode[i]
		}
	})
}

// startClusterWith is startCluster with edit applied to node i's
// configuration.
func startClusterWith(t testing.TB, size int, edit func(i int, cfg *config.Config)) []clusterNode {
	t.Helper()
	nodes, _ := startClusterStops(t, size, edit)
	return nodes
}

// startClusterStops is startClusterWith that also returns a function
// stopping each node (the test's end stops those still running).
func startClusterStops(t testing.TB, size int, edit func(i int, cfg *config.Config)) ([]clusterNode, []func()) {
	t.Helper()
	var nodes []clusterNode
	var stops []func()
	for i := range size {
		cfg := testConfig()
		if i > 0 {
			cfg.Network.Bootnodes = nodes[0].n.P2PAddrs()[:1]
		}
		edit(i, &cfg)
		x, stop := runWith(t, t.TempDir(), cfg)
		t.Cleanup(stop)
		nodes, stops = append(nodes, x), append(stops, stop)
	}
	for _, x := range nodes {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		err := x.n.Network().WaitForPeers(ctx, 1)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	// Every node registers as a validator; wait until all know all, so
	// that a program's committee may be any of them.
	waitFor(t, 30*time.Second, "validator registrations", func() bool {
		for _, x := range nodes {
			if len(x.n.Replica().Validators()) != size {
				return false
			}
		}
		return true
	})
	return nodes, stops
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond) // polling, not synchronising
	}
}

func kvPut(key, value string) []byte {
	return fmt.Appendf(nil, `{"op":"put","key":%q,"data_base64":%q}`, key, base64.StdEncoding.EncodeToString([]byte(value)))
}

func kvstoreWasm(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "kvstore", "kvstore.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// putWasm returns the smallest stateful guest (internal/wasm/testdata
// put.wat, entrypoint "put"): for tests that deploy many programs, where
// checking and instrumenting a Go guest under the race detector takes
// seconds per deploy.
func putWasm(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "wasm", "testdata", "put.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// counter reads a counter of a node's registry, summed over the series
// whose labels include want.
func counter(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue metric
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

// TestClusterConverges runs three real nodes over loopback TCP: a blob
// uploaded on one is served by a node that never had it (fetched on
// demand, in metadata sync mode), kvstore deployed on one is listed and
// executable on all — executions on nodes outside its one-member committee
// are forwarded to the leader and answered with the leader's receipt — and
// every node ends with the same catalog, receipts and state root.
func TestClusterConverges(t *testing.T) {
	nodes := startCluster(t, 3, "", "", config.SyncMetadata)
	ctx := t.Context()

	// A blob uploaded on node 0 is read from node 2, which only has its
	// metadata (metadata sync mode) until it is asked for it.
	data := make([]byte, 5<<20+123)
	rand.Read(data)
	ref, err := nodes[0].c.UploadBlob(ctx, bytes.NewReader(data), int64(len(data)), "application/x-test")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the blob's metadata on node 2", func() bool {
		info, err := nodes[2].c.BlobInfo(ctx, ref.ID)
		return err == nil && info.Size == int64(len(data))
	})
	if info, _ := nodes[2].c.BlobInfo(ctx, ref.ID); info.Complete {
		t.Fatal("a metadata-mode node fetched the blob before it was asked for it")
	}
	var got bytes.Buffer
	if _, err := nodes[2].c.GetBlob(ctx, ref.ID, &got); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("GET /blobs/%s on node 2: %v (%d bytes)", ref.ID, err, got.Len())
	}
	// Node 1 is in full sync mode: it fetches the blob by itself.
	waitFor(t, 30*time.Second, "the blob on node 1 (full sync)", func() bool {
		info, err := nodes[1].c.BlobInfo(ctx, ref.ID)
		return err == nil && info.Complete
	})
	// An id nobody has is a 404, not a hang.
	var missing client.BlobRef
	missing.ID = "blob" + strings.Repeat("ab", 32)
	if _, err := nodes[1].c.GetBlob(ctx, missing.ID, &bytes.Buffer{}); !client.IsNotFound(err) {
		t.Fatalf("GET of a blob nobody has: %v", err)
	}

	// kvstore deployed on node 1 replicates to every catalog.
	prog, err := nodes[1].c.Deploy(ctx, client.DeployRequest{Wasm: kvstoreWasm(t), Entrypoint: "onvm_main", Salt: []byte("cluster")})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the program on every node", func() bool {
		for _, x := range nodes {
			if _, err := x.c.Program(ctx, prog.ID); err != nil {
				return false
			}
		}
		return true
	})
	member := prog.Manifest.Committee.Members[0].Node
	// One execution on every node, in turn: two of them are forwarded.
	for i, x := range nodes {
		res, err := x.c.Execute(ctx, client.ExecuteRequest{ProgramID: prog.ID, Input: kvPut(fmt.Sprint("k", i), fmt.Sprint("v", i))})
		if err != nil {
			t.Fatalf("execute on node %d (committee %s): %v", i, member, err)
		}
		if res.Height != uint64(i+1) {
			t.Fatalf("execute on node %d: height %d, want %d", i, res.Height, i+1)
		}
		// The next execution may go to another node: wait until this one
		// is applied there (the height is the leader's, not this node's).
		waitFor(t, 20*time.Second, "the transition on every node", func() bool {
			for _, y := range nodes {
				sr, err := y.c.StateRoot(ctx, prog.ID, nil, client.StateQuery{})
				if err != nil || sr.Height == nil || *sr.Height != uint64(i+1) {
					return false
				}
			}
			return true
		})
	}
	forwarded := 0.0
	for _, x := range nodes {
		forwarded += counter(t, x.n.Registry(), "onvm_replica_forwarded_executions_total", map[string]string{"direction": "out", "result": "ok"})
	}
	if forwarded != 2 {
		t.Errorf("%v executions forwarded, want 2 (the non-members')", forwarded)
	}

	// Same catalog, receipts and state root everywhere.
	var want []string
	for i, x := range nodes {
		page, err := x.c.Receipts(ctx, prog.ID, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		sr, err := x.c.StateRoot(ctx, prog.ID, nil, client.StateQuery{})
		if err != nil {
			t.Fatal(err)
		}
		cat, err := x.c.Catalog(ctx, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range page.Receipts {
			got = append(got, r.ReceiptID+"@"+r.StateRootOut)
		}
		got = append(got, "root "+sr.Root)
		for _, p := range cat.Programs {
			got = append(got, "program "+p.ProgramID)
		}
		if i == 0 {
			want = got
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("node %d differs from node 0 (-0 +%d):\n%s", i, i, diff)
		}
	}
}

// TestForgedManifestRefused has a node publish a manifest, signed by
// itself, whose program id does not match its code: every other node
// fetches the code, refuses the manifest and counts it, and none lists it.
func TestForgedManifestRefused(t *testing.T) {
	nodes := startCluster(t, 2)
	ctx := t.Context()
	prog, err := nodes[0].c.Deploy(ctx, client.DeployRequest{Wasm: kvstoreWasm(t), Entrypoint: "onvm_main", Salt: []byte("real")})
	if err != nil {
		t.Fatal(err)
	}
	real, err := nodes[0].n.Chain().Manifest(mustProgram(t, prog.ID))
	if err != nil {
		t.Fatal(err)
	}
	body := real.Body
	body.Program = id.Program(id.Sum([]byte("not the code's id")))
	body.Committee.Program = body.Program
	forged, err := program.Sign(body, nodes[0].n.keys.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	o, err := op.ProgramDeployed(forged)
	if err != nil {
		t.Fatal(err)
	}
	if err := nodes[0].n.prop.Submit(o); err != nil {
		t.Fatal(err)
	}
	reg := nodes[1].n.Registry()
	waitFor(t, 30*time.Second, "the forged manifest refused", func() bool {
		return counter(t, reg, "onvm_replica_manifests_total", map[string]string{"result": "code_mismatch"}) == 1
	})
	// The real manifest may travel after the forged one (the deploy's
	// operation waits in the outbox, the forged one was queued directly):
	// it is verified against the same code once it arrives.
	waitFor(t, 30*time.Second, "the real program listed", func() bool {
		_, err := nodes[1].c.Program(ctx, prog.ID)
		return err == nil
	})
	if _, err := nodes[1].c.Program(ctx, body.Program.String()); !client.IsNotFound(err) {
		t.Fatalf("the forged program is listed: %v", err)
	}
}

// TestMinPeersGate starts a node that needs one peer: executions are
// refused with 503 min_peers until a peer connects, then succeed.
func TestMinPeersGate(t *testing.T) {
	ctx := t.Context()
	cfg := testConfig()
	cfg.Network.MinPeers = 1
	a := startWith(t, t.TempDir(), cfg)
	prog, err := a.c.Deploy(ctx, client.DeployRequest{Wasm: kvstoreWasm(t), Entrypoint: "onvm_main", Salt: []byte("gate")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.c.Execute(ctx, client.ExecuteRequest{ProgramID: prog.ID, Input: kvPut("k", "v")})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 503 || ce.Code != "min_peers" {
		t.Fatalf("execute without peers: %v, want 503 min_peers", err)
	}
	peers, err := a.c.Peers(ctx)
	if err != nil || peers.MinPeers != 1 || len(peers.Peers) != 0 || !strings.HasSuffix(peers.Self.Addrs[0], "/p2p/"+peers.Self.PeerID) {
		t.Fatalf("GET /peers = %+v, %v", peers, err)
	}

	cfg2 := testConfig()
	cfg2.Network.Bootnodes = a.n.P2PAddrs()[:1]
	b := startWith(t, t.TempDir(), cfg2)
	waitFor(t, 30*time.Second, "the peer to count", func() bool { return a.n.replica.Gate() == nil })
	if _, err := a.c.Execute(ctx, client.ExecuteRequest{ProgramID: prog.ID, Input: kvPut("k", "v")}); err != nil {
		t.Fatalf("execute with a peer: %v", err)
	}
	peers, err = a.c.Peers(ctx)
	if err != nil || peers.ONVMPeers != 1 || peers.Peers[0].PeerID != b.n.PeerID().String() || peers.Peers[0].ConnectedSince.IsZero() {
		t.Fatalf("GET /peers = %+v, %v", peers, err)
	}
	heads, err := b.c.DAGHeads(ctx)
	if err != nil || len(heads.Heads) == 0 {
		t.Fatalf("GET /dag/heads = %+v, %v", heads, err)
	}
	v, err := b.c.DAGVertex(ctx, heads.Heads[0])
	if err != nil || len(v.Ops) == 0 || v.Ops[0].Name == "" {
		t.Fatalf("GET /dag/vertices/%s = %+v, %v", heads.Heads[0], v, err)
	}
	// Replication is eventual: a's vertices reach b after a answered.
	waitFor(t, 30*time.Second, "both authors on b", func() bool {
		authors, err := b.c.DAGAuthors(ctx)
		return err == nil && len(authors) == 2
	})
	eq, err := b.c.DAGEquivocations(ctx, 10)
	if err != nil || len(eq.Equivocations) != 0 {
		t.Fatalf("GET /dag/equivocations = %+v, %v", eq, err)
	}
}

func mustProgram(t *testing.T, s string) id.Program {
	t.Helper()
	p, err := id.ParseProgram(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// testLogger logs to the test when ONVM_TEST_LOG is set.
func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("ONVM_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestJobsReplicate submits a job on the node outside the program's
// committee: the submission is routed to the committee (the job's home),
// which runs it, and its terminal record and output replicate, so the
// other node answers its status and output.
func TestJobsReplicate(t *testing.T) {
	nodes := startCluster(t, 2)
	ctx := t.Context()
	prog, err := nodes[0].c.Deploy(ctx, client.DeployRequest{Wasm: kvstoreWasm(t), Entrypoint: "onvm_main", Salt: []byte("jobs")})
	if err != nil {
		t.Fatal(err)
	}
	p := mustProgram(t, prog.ID)
	// Submit on the node outside the program's one-member committee: the
	// job's execution is forwarded to the other.
	sub, other := nodes[0], nodes[1]
	if prog.Manifest.Committee.Members[0].Node == sub.n.ID().String() {
		sub, other = other, sub
	}
	waitFor(t, 30*time.Second, "the program on node 1", func() bool {
		_, err := nodes[1].c.Program(ctx, prog.ID)
		return err == nil
	})
	j, _, err := sub.n.Jobs().Submit(ctx, job.SubmitRequest{RequestID: "job-1", Program: p, Input: kvPut("job", "done")})
	if err != nil {
		t.Fatal(err)
	}
	done, err := sub.n.Jobs().Wait(ctx, j.ID, func(x *job.Job) bool { return x.Status.Terminal() })
	if err != nil || done.Status != job.Completed {
		t.Fatalf("job on the submitting node: %+v, %v", done, err)
	}
	// The job service copies the output into a blob in the background.
	var want []byte
	waitFor(t, 30*time.Second, "the job output on the submitting node", func() bool {
		want, _, err = sub.n.Jobs().Output(ctx, j.ID)
		return err == nil
	})
	waitFor(t, 30*time.Second, "the job record on the other node", func() bool {
		x, err := other.n.Jobs().Get(j.ID)
		return err == nil && x.Status == job.Completed
	})
	// The output blob is published by the job service's copier after the
	// record; a read before its announcement arrives may miss it.
	var got []byte
	waitFor(t, 60*time.Second, "the job output on the other node", func() bool {
		got, _, err = other.n.Jobs().Output(ctx, j.ID)
		return err == nil
	})
	if !bytes.Equal(got, want) {
		t.Fatalf("output on the other node: %q; want %q", got, want)
	}
}

// TestArrivalOrderConvergence takes every vertex of a cluster that
// uploaded, deployed and executed, and feeds them to two isolated nodes in
// opposite orders (so most arrive before their parents): both end with the
// cluster's catalog, receipts and state root.
func TestArrivalOrderConvergence(t *testing.T) {
	nodes := startCluster(t, 2)
	ctx := t.Context()
	code := kvstoreWasm(t)
	prog, err := nodes[0].c.Deploy(ctx, client.DeployRequest{Wasm: code, Entrypoint: "onvm_main", Salt: []byte("order")})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the program on node 1", func() bool {
		_, err := nodes[1].c.Program(ctx, prog.ID)
		return err == nil
	})
	const execs = 4
	for i := range execs {
		if _, err := nodes[i%2].c.Execute(ctx, client.ExecuteRequest{ProgramID: prog.ID, Input: kvPut(fmt.Sprint("k", i), "v")}); err != nil {
			t.Fatal(err)
		}
	}
	// Both nodes at the last height: the non-leader got every transition
	// through the DAG, so every transition vertex is in both DAGs.
	var want *client.StateRoot
	for _, x := range nodes {
		waitFor(t, 30*time.Second, "every transition on both nodes", func() bool {
			want, err = x.c.StateRoot(ctx, prog.ID, nil, client.StateQuery{})
			return err == nil && want.Height != nil && *want.Height == execs
		})
	}
	// Every vertex, once the cluster's DAGs hold the same ones.
	var raws [][]byte
	waitFor(t, 30*time.Second, "the cluster's DAGs to agree", func() bool {
		a, b := nodes[0].n.DAG().VersionVector(), nodes[1].n.DAG().VersionVector()
		return len(a) == 2 && a.Covers(b) && b.Covers(a) && a[nodes[0].n.ID()] >= 1
	})
	for _, e := range nodes[0].n.DAG().VersionVector().Entries() {
		vs, err := nodes[0].n.DAG().ByAuthor(e.Author, 1, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			raws = append(raws, v.Raw())
		}
	}
	orders := [][][]byte{raws, reversed(raws)}
	for i, order := range orders {
		f := startWith(t, t.TempDir(), testConfig())
		// The code is the one thing outside the DAG: an isolated node has
		// no provider to fetch it from.
		if _, _, err := f.n.blobs.Put(ctx, bytes.NewReader(code), "application/wasm"); err != nil {
			t.Fatal(err)
		}
		for _, raw := range order { // one at a time: most wait for their parents
			if _, err := f.n.DAG().AddRaw(ctx, "test", [][]byte{raw}); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, 2*time.Minute, fmt.Sprintf("isolated node %d to converge", i), func() bool {
			sr, err := f.c.StateRoot(ctx, prog.ID, nil, client.StateQuery{})
			return err == nil && sr.Height != nil && *sr.Height == execs
		})
		got, _ := f.c.StateRoot(ctx, prog.ID, nil, client.StateQuery{})
		if got.Root != want.Root {
			t.Fatalf("isolated node %d: root %s, want %s", i, got.Root, want.Root)
		}
		wr, _ := nodes[0].c.Receipts(ctx, prog.ID, "", 100)
		gr, err := f.c.Receipts(ctx, prog.ID, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wr, gr); diff != "" {
			t.Fatalf("isolated node %d receipts (-cluster +node):\n%s", i, diff)
		}
	}
}

func reversed(xs [][]byte) [][]byte {
	out := make([][]byte, len(xs))
	for i, x := range xs {
		out[len(xs)-1-i] = x
	}
	return out
}

// TestLostDatabaseDoesNotEquivocate restarts a node without its database
// but with its key while its only peer is down: it must not propose (its
// next vertex would take a sequence it already used) until it has synced
// its own old vertices back from the peer, and then it continues its chain.
func TestLostDatabaseDoesNotEquivocate(t *testing.T) {
	ctx := t.Context()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	acfg := testConfig()
	acfg.Network.Listen = []string{fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port)}
	adir := t.TempDir()
	a, stopA := runWith(t, adir, acfg)
	bcfg := testConfig()
	bcfg.Network.Bootnodes = a.n.P2PAddrs()[:1]
	bdir := t.TempDir()
	b, stopB := runWith(t, bdir, bcfg)
	self := b.n.ID()
	if _, err := b.c.UploadBlob(ctx, strings.NewReader("before"), -1, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "node b's vertices on node a", func() bool {
		return a.n.DAG().VersionVector()[self] >= 1 && a.n.DAG().VersionVector()[self] == b.n.DAG().VersionVector()[self]
	})
	before := a.n.DAG().VersionVector()[self]
	stopB()
	stopA()
	if err := os.RemoveAll(filepath.Join(bdir, DBDir)); err != nil {
		t.Fatal(err)
	}

	// b comes back alone, with an operation to propose.
	b, stopB = runWith(t, bdir, bcfg)
	defer stopB()
	started := time.Now()
	if _, err := b.c.UploadBlob(ctx, strings.NewReader("after"), -1, ""); err != nil {
		t.Fatal(err)
	}
	// Give a node that would not wait several proposal slots (500 ms) to
	// propose; this one must still hold its operation.
	waitFor(t, 10*time.Second, "a few proposal slots", func() bool { return time.Since(started) > 2*time.Second })
	if got := b.n.DAG().VersionVector()[self]; got != 0 {
		t.Fatalf("node b proposed (own sequence %d) before syncing its old vertices", got)
	}

	a, stopA = runWith(t, adir, acfg)
	defer stopA()
	waitFor(t, 60*time.Second, "node b's new vertex on node a", func() bool {
		return a.n.DAG().VersionVector()[self] > before
	})
	if f := a.n.DAG().Flagged(); len(f) != 0 {
		t.Fatalf("node b equivocated after losing its database: %+v", f)
	}
}

// TestExecuteRightAfterDeploy executes a program on its deployer at once,
// when the program's one-member committee is the other node: the forwarded
// request usually reaches the member before the manifest's vertex (a
// deployer publishes one every 500 ms slot), and the member waits for it
// instead of answering not_found.
func TestExecuteRightAfterDeploy(t *testing.T) {
	nodes := startCluster(t, 2)
	ctx := t.Context()
	for salt := 0; ; salt++ {
		prog, err := nodes[0].c.Deploy(ctx, client.DeployRequest{Wasm: kvstoreWasm(t), Entrypoint: "onvm_main", Salt: fmt.Appendf(nil, "right-after-%d", salt)})
		if err != nil {
			t.Fatal(err)
		}
		if prog.Manifest.Committee.Members[0].Node == nodes[0].n.ID().String() {
			continue // executed here, not forwarded: try another salt
		}
		res, err := nodes[0].c.Execute(ctx, client.ExecuteRequest{ProgramID: prog.ID, Input: kvPut("k", "v")})
		if err != nil {
			t.Fatalf("execute right after deploy, forwarded to %s: %v", prog.Manifest.Committee.Members[0].Node, err)
		}
		if res.Height != 1 {
			t.Fatalf("height %d, want 1", res.Height)
		}
		return
	}
}

// TestUseOnAnotherNodeRightAfterDeploy deploys on one node and, at once,
// executes and submits a job on the other, which has not heard of the
// program yet: it asks its peers (a sync) and waits a moment rather than
// answering 404.
func TestUseOnAnotherNodeRightAfterDeploy(t *testing.T) {
	nodes := startCluster(t, 2)
	ctx := t.Context()
	for i := range 3 {
		prog, err := nodes[0].c.Deploy(ctx, client.DeployRequest{Wasm: kvstoreWasm(t), Entrypoint: "onvm_main", Salt: fmt.Appendf(nil, "elsewhere-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := nodes[1].c.Execute(ctx, client.ExecuteRequest{ProgramID: prog.ID, Input: kvPut("k", "v")}); err != nil {
			t.Fatalf("round %d: execute on the other node right after the deploy: %v", i, err)
		}
		prog2, err := nodes[1].c.Deploy(ctx, client.DeployRequest{Wasm: kvstoreWasm(t), Entrypoint: "onvm_main", Salt: fmt.Appendf(nil, "elsewhere-job-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := nodes[0].c.SubmitJob(ctx, client.SubmitJobRequest{RequestID: "r", ProgramID: prog2.ID, Input: kvPut("k", "v")}); err != nil {
			t.Fatalf("round %d: job on the other node right after the deploy: %v", i, err)
		}
	}
}
