package p2p

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/dagtest"
)

// proposeConcurrently has every listed node propose rounds vertices of
// 1..3 operations at once and returns how many operations were made.
func (c *cluster) proposeConcurrently(rounds int, which ...int) int {
	var mu sync.Mutex
	total := 0
	var wg sync.WaitGroup
	for _, i := range which {
		wg.Go(func() {
			for r := range rounds {
				k := 1 + (i+r)%3
				c.propose(i, k)
				mu.Lock()
				total += k
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return total
}

func seq(a, b int) []int {
	var out []int
	for i := a; i < b; i++ {
		out = append(out, i)
	}
	return out
}

func TestClusterConverges(t *testing.T) {
	tests := []struct {
		name         string
		nodes, extra int
		rounds       int
		timeout      time.Duration
	}{
		{"5 nodes", 5, 1, 10, 30 * time.Second},
		{"20 nodes", 20, 2, 4, 60 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t, tt.nodes, fastConfig())
			c.meshTopology(tt.extra, 7)
			want := c.proposeConcurrently(tt.rounds, seq(0, tt.nodes)...)
			c.waitConverged(tt.timeout, want)
			// Every vertex made is accepted everywhere, heads included.
			if got := c.nodes[0].d.Len(); got != uint64(tt.nodes*tt.rounds) {
				t.Fatalf("node 0 holds %d vertices, want %d", got, tt.nodes*tt.rounds)
			}
		})
	}
}

// TestPartitionHeals splits five nodes {0,1,2}|{3,4}, lets both sides
// work, and heals: each side converges on its own, then all converge.
func TestPartitionHeals(t *testing.T) {
	c := newCluster(t, 5, fastConfig())
	c.meshTopology(2, 3)
	total := c.proposeConcurrently(2, seq(0, 5)...)
	c.waitConverged(30*time.Second, total)

	left, right := []int{0, 1, 2}, []int{3, 4}
	c.cut(left, right)
	l := c.proposeConcurrently(3, left...)
	r := c.proposeConcurrently(3, right...)
	c.waitConverged(30*time.Second, total+l, left...)
	c.waitConverged(30*time.Second, total+r, right...)
	if c.nodes[0].cat.Len() != total+l {
		t.Fatal("operations crossed the partition")
	}

	c.heal(left, right)
	c.waitConverged(30*time.Second, total+l+r)
}

// TestCascadingPartition splits the cluster twice and heals it step by
// step; each healed group converges before the next step.
func TestCascadingPartition(t *testing.T) {
	c := newCluster(t, 6, fastConfig())
	c.meshTopology(2, 5)
	base := c.proposeConcurrently(1, seq(0, 6)...)
	c.waitConverged(30*time.Second, base)

	a, b, cc := []int{0, 1}, []int{2, 3}, []int{4, 5}
	c.cut(append(append([]int{}, a...), b...), cc) // {0,1,2,3} | {4,5}
	n4 := c.proposeConcurrently(2, cc...)
	c.cut(a, b) // {0,1} | {2,3} | {4,5}
	n0 := c.proposeConcurrently(2, a...)
	n2 := c.proposeConcurrently(2, b...)
	c.waitConverged(30*time.Second, base+n0, a...)
	c.waitConverged(30*time.Second, base+n2, b...)
	c.waitConverged(30*time.Second, base+n4, cc...)

	c.heal(a, b)
	c.waitConverged(30*time.Second, base+n0+n2, seq(0, 4)...)
	more := c.proposeConcurrently(1, 1, 3)
	c.heal(b, cc)
	c.waitConverged(30*time.Second, base+n0+n2+n4+more)
}

// TestAsymmetricPartition makes node 0 mute: it hears everybody, nobody
// hears it (its outgoing gossip streams fail, and peers' pulls from it are
// refused). Everyone else converges without 0's operations, 0 converges
// on all of them, and when 0 speaks again everyone gets the rest.
func TestAsymmetricPartition(t *testing.T) {
	c := newCluster(t, 5, fastConfig())
	c.meshTopology(2, 11)
	base := c.proposeConcurrently(1, seq(0, 5)...)
	c.waitConverged(30*time.Second, base)

	mute := c.mute(0)
	// Reconnect so that pubsub re-opens its streams through the filter.
	for j := 1; j < 5; j++ {
		c.cut([]int{0}, []int{j})
		c.heal([]int{0}, []int{j})
	}
	n0 := c.proposeConcurrently(3, 0)
	others := c.proposeConcurrently(2, seq(1, 5)...)
	c.waitConverged(30*time.Second, base+others, seq(1, 5)...)
	// Node 0 hears them (their gossip and its own pulls).
	deadline := time.Now().Add(30 * time.Second)
	for c.nodes[0].cat.Len() != base+others+n0 {
		if time.Now().After(deadline) {
			t.Fatalf("mute node applied %d of %d", c.nodes[0].cat.Len(), base+others+n0)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := c.nodes[1].cat.Len(); got != base+others {
		t.Fatalf("node 1 applied %d: operations of the mute node leaked", got)
	}

	mute.Store(false)
	for j := 1; j < 5; j++ {
		c.cut([]int{0}, []int{j})
		c.heal([]int{0}, []int{j})
	}
	c.waitConverged(30*time.Second, base+others+n0)
}

// TestLateJoinerSyncs has a node join a network holding 10,000 vertices
// and catch up through the sync protocol alone.
func TestLateJoinerSyncs(t *testing.T) {
	const vertices = 10000
	c := newCluster(t, 2, fastConfig())
	c.connect(0, 1)
	seed := c.nodes[0]
	raws := makeHistory(t, vertices, 4)
	for i := 0; i < len(raws); i += 1000 {
		res, err := seed.d.AddRaw(context.Background(), "history", raws[i:min(i+1000, len(raws))])
		if err != nil || len(res.Rejected) > 0 {
			t.Fatalf("seed history: %v %v", err, res.Rejected)
		}
	}
	c.waitConverged(60*time.Second, seed.cat.Len(), 0, 1)

	late := c.add()
	start := time.Now()
	c.connect(late.i, 0)
	c.waitConverged(120*time.Second, seed.cat.Len())
	el := time.Since(start)
	t.Logf("late joiner synced %d vertices in %v (%.0f vertices/s)", vertices, el, vertices/el.Seconds())
	if late.d.Len() != vertices {
		t.Fatalf("late joiner holds %d vertices", late.d.Len())
	}
}

// makeHistory returns n signed vertices by authors authors, in a causal
// order, each linking to the others' latest vertices.
func makeHistory(t testing.TB, n, authors int) [][]byte {
	t.Helper()
	keys := make([]dagKey, authors)
	for i := range keys {
		keys[i] = dagKey{key: dagtest.Key(1000 + i)}
	}
	var out [][]byte
	for i := range n {
		a := i % authors
		k := &keys[a]
		var parents []idHash
		if k.last != (idHash{}) {
			parents = append(parents, k.last)
		}
		var others []idHash
		for j := range keys {
			if j != a && keys[j].last != (idHash{}) {
				others = append(others, keys[j].last)
			}
		}
		parents = append(parents, sortedIDs(others)...)
		if len(parents) == 0 {
			parents = nil
		}
		k.seq++
		v := dagtest.Sign(t, k.key, k.seq, parents, dagtest.Op([]byte{byte(i), byte(i >> 8), byte(i >> 16), 'h'}))
		k.last = v.ID()
		out = append(out, v.Raw())
	}
	return out
}

var _ = dag.MaxOps
