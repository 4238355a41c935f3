package replica

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/job"
	"github.com/onvm-network/onvm/internal/program"
	"github.com/onvm-network/onvm/internal/wasm"
)

var (
	convergeSeeds = flag.Int("converge.seeds", 100, "how many seeds TestSameVerticesSameState runs")
	convergeSeed  = flag.Int64("converge.seed", -1, "run TestSameVerticesSameState for this seed only")
)

// convergeRegressions are seeds that found a defect.
var convergeRegressions = []uint64{
	17, // a blob's media type was the first announcement's to arrive
}

// Sizes of a simulated history.
const (
	simProducers = 3  // nodes that deploy, execute, upload and finish jobs
	simReceivers = 2  // fresh nodes the history is delivered to
	simSteps     = 30 // producer actions per history
)

// TestSameVerticesSameState is the property that vertex application
// cannot stall and does not depend on arrival order. A seeded random
// history of a few producers — validator registrations and heartbeats,
// deploys, transitions at successive heights made by real executions on
// each program's committee member, blob uploads, job records — is
// published in vertices the producers propose and exchange at random
// moments, so operations are batched at random (a deploy and its first
// transitions in one vertex, or apart) and each vertex's parents are the
// heads its author had seen. Every vertex is then delivered to fresh
// nodes, each in its own random order (one with duplicates), in random
// chunks from random sources (so many vertices arrive before their
// parents), while their verifiers fetch program code at random moments
// (operations arrive before the code they wait for) and the job service
// is attached at a random moment. After delivery, without any sweep, every
// receiver must hold no pending vertex and no parked operation, and all
// must have the same DAG frontier, catalog, chain heads, job statuses,
// validators and blob metadata: those the history decides (the members'
// heads, the jobs' records, the DAG's heads and vector, the blobs'
// announcements). In about one history in four a program's code never
// arrives: only that program's operations stay parked, and the later
// operations of every other program apply.
//
// A failure names its seed: rerun it alone with -converge.seed=N.
// convergeRegressions always run.
func TestSameVerticesSameState(t *testing.T) {
	seeds := slices.Clone(convergeRegressions)
	for s := range uint64(max(*convergeSeeds, 0)) {
		if !slices.Contains(seeds, s) {
			seeds = append(seeds, s)
		}
	}
	if *convergeSeed >= 0 {
		seeds = []uint64{uint64(*convergeSeed)}
	}
	var cov coverage
	t.Cleanup(func() { t.Logf("%d histories: %s", len(seeds), &cov) })
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			t.Parallel()
			defer func() {
				if t.Failed() {
					t.Logf("seed %d failed: rerun with -run 'TestSameVerticesSameState' -converge.seed=%d", seed, seed)
				}
			}()
			runHistory(t, seed, &cov)
		})
	}
}

// runHistory generates the history of seed, delivers it and checks the
// receivers.
func runHistory(t *testing.T, seed uint64, cov *coverage) {
	ctx := t.Context()
	s := newSim(t, seed)
	for range simSteps {
		s.step(ctx)
	}
	for _, a := range s.prods { // the history ends with every operation in a vertex
		for s.propose(ctx, a) {
		}
	}
	if s.rng.IntN(3) == 0 && len(s.programs) > 1 {
		s.withheld = s.programs[s.rng.IntN(len(s.programs))].Body.Program
	}
	want := s.expected(t)
	cov.history(s)
	for i := range simReceivers {
		n := newBareNode(t, 10+i, s.rt, simClock())
		early, parked := s.deliver(ctx, n, s.order(i))
		cov.early.Add(int64(early))
		cov.parked.Add(int64(parked))
		if diff := cmp.Diff(want, s.stateOf(t, n)); diff != "" {
			t.Fatalf("receiver %d after full delivery (withheld program %s), -want +got:\n%s", i, s.withheld, diff)
		}
	}
}

// coverage counts what the histories exercised, to show that the
// interesting cases occur.
type coverage struct {
	histories, vertices, ops, programs, transitions atomic.Int64
	together                                        atomic.Int64 // vertices carrying a deploy and a transition of it
	withheld                                        atomic.Int64 // histories with a program whose code never arrives
	typed                                           atomic.Int64 // blobs announced with two media types
	early                                           atomic.Int64 // deliveries of a vertex before its parents
	parked                                          atomic.Int64 // transitions kept until their program was installed
}

func (c *coverage) history(s *sim) {
	c.histories.Add(1)
	c.vertices.Add(int64(len(s.vertices)))
	c.programs.Add(int64(len(s.programs)))
	if s.withheld != (id.Program{}) {
		c.withheld.Add(1)
	}
	types := map[id.Blob]string{}
	for _, v := range s.vertices {
		c.ops.Add(int64(len(v.Ops)))
		deployed := map[id.Program]bool{}
		for _, o := range v.Ops {
			switch o.Kind {
			case op.KindProgramDeployed:
				m, _ := op.DecodeProgramDeployed(o)
				deployed[m.Body.Program] = true
			case op.KindTransition:
				c.transitions.Add(1)
				if tr, _ := op.DecodeTransition(o); deployed[tr.Receipt.Receipt.Program] {
					c.together.Add(1)
				}
			case op.KindBlobPublished:
				bp, _ := op.DecodeBlobPublished(o)
				if t, ok := types[bp.Blob]; ok && t != bp.Mime {
					c.typed.Add(1)
					types[bp.Blob] = "" // counted
				} else if !ok {
					types[bp.Blob] = bp.Mime
				}
			}
		}
	}
}

func (c *coverage) String() string {
	return fmt.Sprintf("%d vertices, %d operations, %d programs, %d transitions, %d in the vertex of their deploy; "+
		"%d with code withheld; %d blobs of two types; %d vertices delivered before their parents, %d transitions kept for their program",
		c.vertices.Load(), c.ops.Load(), c.programs.Load(), c.transitions.Load(), c.together.Load(),
		c.withheld.Load(), c.typed.Load(), c.early.Load(), c.parked.Load())
}

// sim is one random history of a small network of producers.
type sim struct {
	t        *testing.T
	rng      *rand.Rand
	rt       *wasm.Runtime
	base     []byte // put.wasm
	prods    []*testNode
	vertices []*dag.Vertex // every vertex proposed, in proposal order (a causal order)
	programs []*program.Manifest
	codes    map[id.Blob][]byte
	jobs     map[id.Job]job.Status
	withheld id.Program // a program whose code never reaches the receivers
	next     int        // numbers programs, inputs and jobs
}

func newSim(t *testing.T, seed uint64) *sim {
	s := &sim{
		t: t, rng: rand.New(rand.NewPCG(seed, 0x5eed)), rt: simRuntime(t), base: putWasm(t),
		codes: map[id.Blob][]byte{}, jobs: map[id.Job]job.Status{},
	}
	for i := range simProducers {
		n := newBareNode(t, i, s.rt, simClock())
		if err := n.r.register(); err != nil {
			t.Fatal(err)
		}
		s.prods = append(s.prods, n)
	}
	return s
}

// step runs one random producer action.
func (s *sim) step(ctx context.Context) {
	a := s.prods[s.rng.IntN(len(s.prods))]
	switch k := s.rng.IntN(100); {
	case k < 8:
		s.deploy(ctx, a)
	case k < 33:
		s.execute(ctx)
	case k < 40:
		s.upload(ctx, a)
	case k < 43:
		s.heartbeat(a)
	case k < 78:
		s.propose(ctx, a)
	default:
		s.sync(ctx, a, s.rng.IntN(len(s.vertices)+1))
	}
}

func (s *sim) deploy(ctx context.Context, a *testNode) {
	s.next++
	code := withCustomSection(s.base, fmt.Sprint("program ", s.next))
	m, _, err := a.r.chain.Deploy(ctx, chain.DeployRequest{Code: code, Entrypoint: "put", Salt: fmt.Append(nil, s.next)})
	if err != nil {
		s.t.Fatal(err)
	}
	s.programs = append(s.programs, m)
	s.codes[m.Body.CodeBlob] = code
}

// execute runs a random program on its committee member, if that member
// has installed it; one execution in three is a job whose terminal record
// the member publishes.
func (s *sim) execute(ctx context.Context) {
	if len(s.programs) == 0 {
		return
	}
	m := s.programs[s.rng.IntN(len(s.programs))]
	p := m.Body.Program
	member := s.producer(m.Body.Committee.Members[0].Node)
	if ok, err := member.r.inCatalog(p); err != nil || !ok {
		return // the member has not received or verified the deploy yet
	}
	s.next++
	req := chain.Request{Program: p, Input: fmt.Appendf(nil, "key %d", s.next)}
	isJob := s.rng.IntN(3) == 0
	if isJob {
		req.RequestID = fmt.Sprint("job ", s.next)
	}
	o, err := member.r.chain.Execute(ctx, req)
	if err != nil {
		s.t.Fatal(err)
	}
	if isJob {
		s.finishJob(member, p, req.RequestID, o)
	}
	if s.rng.IntN(8) == 0 { // a job that failed: no transition
		s.next++
		s.finishJob(member, p, fmt.Sprint("job ", s.next), nil)
	}
}

// finishJob stages the signed terminal record of a job of p that member
// ran: succeeded with o's receipt, or failed when o is nil.
func (s *sim) finishJob(member *testNode, p id.Program, rid string, o *chain.Outcome) {
	rec := &op.JobRecord{
		Job: id.JobOf(p, rid), Program: p, RequestID: rid, Status: op.JobFailed, Error: "guest trapped",
		CreatedAt: int64(s.next), StartedAt: int64(s.next), FinishedAt: int64(s.next), Executor: member.r.self,
	}
	st := job.Failed
	if o != nil {
		rec.Status, rec.Error, rec.Receipt, rec.Fuel = op.JobSucceeded, "", o.ReceiptID(), o.FuelUsed
		st = job.Completed
	}
	if err := rec.Sign(member.keys.Ed25519); err != nil {
		s.t.Fatal(err)
	}
	b := member.db.NewBatch()
	defer b.Close()
	if err := member.r.out.StageJobRecord(b, rec); err != nil {
		s.t.Fatal(err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		s.t.Fatal(err)
	}
	s.jobs[rec.Job] = st
}

// upload stores one of a few blobs, so that several producers publish the
// same one, with one of two media types.
func (s *sim) upload(ctx context.Context, a *testNode) {
	data := fmt.Append(nil, "blob ", s.rng.IntN(4))
	mime := []string{"text/plain", "application/octet-stream"}[s.rng.IntN(2)]
	if _, _, err := a.blobs.Put(ctx, bytes.NewReader(data), mime); err != nil {
		s.t.Fatal(err)
	}
}

func (s *sim) heartbeat(a *testNode) {
	b := a.db.NewBatch()
	defer b.Close()
	if err := a.r.out.StageValidator(b, a.r.vals.self); err != nil {
		s.t.Fatal(err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		s.t.Fatal(err)
	}
}

// propose makes a's next vertex from its outbox; false if it was empty.
func (s *sim) propose(ctx context.Context, a *testNode) bool {
	v, dropped, err := a.d.ProposeNext(ctx)
	if err != nil || len(dropped) > 0 {
		s.t.Fatalf("propose: %v %v", err, dropped)
	}
	if v == nil {
		return false
	}
	s.vertices = append(s.vertices, v)
	return true
}

// sync gives a the first k vertices of the history (a prefix of a causal
// order is causally closed) and lets its verifier fetch the code they
// name, as the deployers serve it.
func (s *sim) sync(ctx context.Context, a *testNode, k int) {
	res, err := a.d.Add(ctx, "peer", s.vertices[:k]...)
	if err != nil || len(res.Rejected) > 0 || res.Pending > 0 {
		s.t.Fatalf("sync: %v, result %+v", err, res)
	}
	for s.verifyNext(a) {
	}
}

// verifyNext runs n's verifier on the next program queued (what
// Replica.verifyLoop does), its code fetch bringing the code unless it is
// the withheld program's; false when nothing is queued.
func (s *sim) verifyNext(n *testNode) bool {
	p, ok := n.r.verify.take()
	if !ok {
		return false
	}
	if p != s.withheld {
		for _, m := range s.programs {
			if m.Body.Program == p {
				if _, _, err := n.blobs.Put(n.r.ctx, bytes.NewReader(s.codes[m.Body.CodeBlob]), chain.WasmMIME); err != nil {
					s.t.Fatal(err)
				}
			}
		}
	}
	_ = n.r.verifyProgram(p) // an error leaves the manifest awaiting its code
	return true
}

func (s *sim) producer(n id.Node) *testNode {
	for _, a := range s.prods {
		if a.r.self == n {
			return a
		}
	}
	s.t.Fatalf("committee member %s is not a producer", n)
	return nil
}

// order returns the delivery of receiver i: the history shuffled, with
// one vertex in four twice for odd receivers.
func (s *sim) order(i int) []*dag.Vertex {
	out := slices.Clone(s.vertices)
	for _, v := range s.vertices {
		if i%2 == 1 && s.rng.IntN(4) == 0 {
			out = append(out, v)
		}
	}
	s.rng.Shuffle(len(out), func(a, b int) { out[a], out[b] = out[b], out[a] })
	return out
}

// deliver gives n the vertices, as bytes, in chunks of 1 to 8 from random
// sources; between chunks its verifier finishes code fetches at random,
// and its job service is attached at a random moment. It returns how many
// vertices arrived before their parents, and the most transitions kept at
// once for their program.
func (s *sim) deliver(ctx context.Context, n *testNode, vs []*dag.Vertex) (early, parked int) {
	jobs, err := job.Open(ctx, job.Options{DB: n.db, Exec: n.r.chain, Blobs: n.blobs, Key: n.keys.Ed25519, Workers: 1})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { _ = jobs.Close() })
	attach := s.rng.IntN(len(vs)/4 + 2)
	for i, chunk := 0, 0; i < len(vs); chunk++ {
		if chunk == attach {
			n.r.SetJobs(jobs)
		}
		c := min(1+s.rng.IntN(8), len(vs)-i)
		raws := make([][]byte, c)
		for j, v := range vs[i : i+c] {
			raws[j] = bytes.Clone(v.Raw())
		}
		i += c
		res, err := n.d.AddRaw(ctx, dag.Source(fmt.Sprint("peer", s.rng.IntN(3))), raws)
		if err != nil || len(res.Rejected) > 0 {
			s.t.Fatalf("deliver: %v, rejected %v", err, res.Rejected)
		}
		early += res.Pending
		waiting := 0
		if err := scan(n.db, []byte(pfxWaiting), func(_, _ []byte) (bool, error) { waiting++; return true, nil }); err != nil {
			s.t.Fatal(err)
		}
		parked = max(parked, waiting)
		for s.rng.IntN(3) == 0 { // code fetches that finish now
			if !s.verifyNext(n) {
				break
			}
		}
	}
	for s.verifyNext(n) {
	}
	if n.r.jobs == nil {
		n.r.SetJobs(jobs)
	}
	return early, parked
}

// simState is what replication decides on a node.
type simState struct {
	Heads      []id.Hash
	VV         []dag.VVEntry
	Vertices   uint64
	Pending    int
	Refused    map[string]uint64
	Catalog    map[id.Program]id.Hash // manifest ids
	Chains     map[id.Program]chain.Head
	Jobs       map[id.Job]job.Status
	Validators map[id.Node]string // BLS key, hex
	Heard      map[id.Node]int64
	Blobs      map[id.Blob]blobMeta
	// Parked counts what is left waiting, by key prefix: manifests
	// awaiting code (n/m/), transitions awaiting a manifest (n/w/), job
	// records awaiting the job service (n/j/), transitions buffered ahead
	// of their chain (r/f/), vertices not fully applied (d/u/).
	Parked map[string]int
}

var parkedPrefixes = []string{pfxManifest, pfxWaiting, pfxJob, "r/f/", "d/u/"}

func (s *sim) stateOf(t *testing.T, n *testNode) *simState {
	t.Helper()
	st := &simState{
		Heads: n.d.Heads(), VV: n.d.VersionVector().Entries(), Vertices: n.d.Len(),
		Catalog: map[id.Program]id.Hash{}, Chains: map[id.Program]chain.Head{}, Jobs: map[id.Job]job.Status{},
		Validators: map[id.Node]string{}, Blobs: map[id.Blob]blobMeta{}, Parked: map[string]int{},
	}
	stats := n.d.Stats()
	st.Pending, st.Refused = stats.Pending, stats.RefusedOps
	ms, _, err := n.r.chain.Catalog().List(nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		p := m.Body.Program
		st.Catalog[p] = m.ID()
		if st.Chains[p], err = n.r.chain.Head(p); err != nil {
			t.Fatal(err)
		}
	}
	if n.r.jobs != nil {
		for j := range s.jobs {
			if got, err := n.r.jobs.Get(j); err == nil {
				st.Jobs[j] = got.Status
			}
		}
	}
	for _, v := range n.r.vals.List() {
		if v.Node != n.r.self {
			st.Validators[v.Node] = fmt.Sprintf("%x", v.BLSKey[:])
		}
	}
	n.r.vals.mu.RLock()
	st.Heard = maps.Clone(n.r.vals.heard)
	n.r.vals.mu.RUnlock()
	if err := scan(n.db, []byte(pfxBlob), func(k, v []byte) (bool, error) {
		var m blobMeta
		err := codec.Unmarshal(v, &m)
		st.Blobs[id.Blob(k[len(pfxBlob):])] = m
		return true, err
	}); err != nil {
		t.Fatal(err)
	}
	for _, pfx := range parkedPrefixes {
		if err := scan(n.db, []byte(pfx), func(k, _ []byte) (bool, error) {
			if (pfx == pfxManifest || pfx == pfxWaiting) && id.Program(k[len(pfx):len(pfx)+id.Size]) == s.withheld {
				pfx += "withheld"
			}
			st.Parked[pfx]++
			return true, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// expected is the state every receiver must reach, derived from the
// history alone: its vertices, the producers' programs and jobs, less
// what depends on the withheld program's code.
func (s *sim) expected(t *testing.T) *simState {
	t.Helper()
	want := &simState{
		Vertices: uint64(len(s.vertices)), Refused: map[string]uint64{},
		Catalog: map[id.Program]id.Hash{}, Chains: map[id.Program]chain.Head{}, Jobs: maps.Clone(s.jobs),
		Validators: map[id.Node]string{}, Heard: map[id.Node]int64{}, Blobs: map[id.Blob]blobMeta{}, Parked: map[string]int{},
	}
	for _, k := range []string{"blob_published", "program_deployed", "transition", "job_record", "validator_registered"} {
		want.Refused[k] = 0
	}
	vv := dag.VersionVector{}
	heads := map[id.Hash]bool{}
	for _, v := range s.vertices {
		vv[v.Author] = max(vv[v.Author], v.Seq)
		heads[v.ID()] = true
		for _, p := range v.Parents {
			delete(heads, p)
		}
		for _, o := range v.Ops {
			s.expectOp(t, want, o, v)
		}
	}
	want.VV = vv.Entries()
	for h := range heads {
		want.Heads = append(want.Heads, h)
	}
	slices.SortFunc(want.Heads, func(a, b id.Hash) int { return bytes.Compare(a[:], b[:]) })
	for _, m := range s.programs {
		p := m.Body.Program
		head, err := s.producer(m.Body.Committee.Members[0].Node).r.chain.Head(p)
		if errors.Is(err, chain.ErrNotFound) { // its member never installed it: nothing ran
			head, err = chain.Head{Root: m.Body.InitialRoot}, nil
		}
		if err != nil {
			t.Fatal(err)
		}
		if p == s.withheld {
			want.Parked[pfxManifest+"withheld"] = 1
			if head.Height > 0 {
				want.Parked[pfxWaiting+"withheld"] = int(head.Height)
			}
			continue
		}
		want.Catalog[p] = m.ID()
		want.Chains[p] = head
	}
	return want
}

// expectOp adds to want what operation o of v decides: a validator and
// its latest heartbeat, a blob's publishers and the size and type of its
// lowest publisher's least announcement.
func (s *sim) expectOp(t *testing.T, want *simState, o dag.Op, v *dag.Vertex) {
	t.Helper()
	switch o.Kind {
	case op.KindValidatorRegistered:
		val, err := op.DecodeValidatorRegistered(o)
		if err != nil {
			t.Fatal(err)
		}
		want.Validators[val.Node] = fmt.Sprintf("%x", val.BLSKey[:])
		want.Heard[val.Node] = max(want.Heard[val.Node], v.Timestamp)
	case op.KindBlobPublished:
		bp, err := op.DecodeBlobPublished(o)
		if err != nil {
			t.Fatal(err)
		}
		m, ok := want.Blobs[bp.Blob]
		i, found := slices.BinarySearchFunc(m.Publishers, bp.Publisher, cmpNode)
		if !ok || i == 0 && (!found || bp.Size < m.Size || bp.Size == m.Size && bp.Mime < m.Mime) {
			m.Size, m.Mime = bp.Size, bp.Mime
		}
		if !found {
			m.Publishers = slices.Insert(slices.Clone(m.Publishers), i, bp.Publisher)
		}
		want.Blobs[bp.Blob] = m
	}
}

// simClock returns a clock that starts at the same instant for every node
// and ticks a millisecond per reading, so that a seed's history is the
// same, byte for byte, at every run.
func simClock() func() time.Time {
	var mu sync.Mutex
	now := time.UnixMilli(1_800_000_000_000)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Millisecond)
		return now
	}
}

var simRT struct {
	once sync.Once
	rt   *wasm.Runtime
	err  error
}

// simRuntime is the wasm runtime every simulated node shares.
func simRuntime(t *testing.T) *wasm.Runtime {
	t.Helper()
	simRT.once.Do(func() { simRT.rt, simRT.err = wasm.New(context.Background(), wasm.Config{}) })
	if simRT.err != nil {
		t.Fatal(simRT.err)
	}
	return simRT.rt
}

// putWasm returns internal/wasm/testdata/put.wasm.
func putWasm(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "wasm", "testdata", "put.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withCustomSection returns module with a custom section holding payload
// appended: another module, hence another program, with the same code.
func withCustomSection(module []byte, payload string) []byte {
	body := append([]byte{4}, "test"...)
	body = append(body, payload...)
	out := append(slices.Clone(module), 0, byte(len(body))) // id 0; a size under 128 is one LEB128 byte
	return append(out, body...)
}
