package node

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/config"
	"github.com/onvm-network/onvm/internal/id"
)

// TestCommitteeOfFour runs four nodes over real libp2p and pebble with
// execution.committee_size = 4: a program's four members agree on every
// transition over /onvm/agree/1.0.0. Executions sent to any node succeed
// with receipts that verify offline against the committee; with one
// member stopped (f = 1) they keep succeeding on the others; every live
// node ends at one height with one state root.
func TestCommitteeOfFour(t *testing.T) {
	nodes, stops := startClusterStops(t, 4, func(_ int, cfg *config.Config) {
		cfg.Execution.CommitteeSize = 4
	})
	ctx := t.Context()
	prog, err := nodes[0].c.Deploy(ctx, client.DeployRequest{Wasm: kvstoreWasm(t), Entrypoint: "onvm_main", Salt: []byte("four")})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(prog.Manifest.Committee.Members); n != 4 {
		t.Fatalf("committee of %d members, want 4", n)
	}
	committee, err := nodes[0].c.Committee(ctx, prog.ID)
	if err != nil {
		t.Fatal(err)
	}
	put := func(x clusterNode, key string) {
		t.Helper()
		res, err := x.c.Execute(ctx, client.ExecuteRequest{ProgramID: prog.ID, Input: kvPut(key, "v-"+key), RequestID: "put-" + key})
		if err != nil {
			t.Fatalf("put %s on %s: %v", key, x.n.ID(), err)
		}
		rc, err := x.c.Receipt(ctx, res.ReceiptID)
		if err != nil {
			t.Fatalf("receipt of put %s: %v", key, err)
		}
		v, err := client.VerifyReceipt(rc, committee)
		if err != nil {
			t.Fatalf("receipt of put %s does not verify: %v", key, err)
		}
		if v.Signers < 3 {
			t.Fatalf("put %s certified by %d of 4 members", key, v.Signers)
		}
	}
	for i, x := range nodes {
		put(x, fmt.Sprint("k", i))
	}
	p := mustProgram(t, prog.ID)
	waitSameHead(t, nodes, p, 4)

	// One member of four stopped: the three others still decide, whichever
	// of them leads.
	stops[3]()
	live := nodes[:3]
	var wg sync.WaitGroup
	for i, x := range live {
		wg.Go(func() { put(x, fmt.Sprint("after", i)) })
	}
	wg.Wait()
	waitSameHead(t, live, p, 7)
}

// waitSameHead polls until every node's head of p is at height h with
// one state root.
func waitSameHead(t *testing.T, nodes []clusterNode, p id.Program, h uint64) {
	t.Helper()
	var heads []chain.Head
	waitFor(t, 30*time.Second, fmt.Sprintf("every node at height %d with one root", h), func() bool {
		heads = heads[:0]
		for _, x := range nodes {
			head, err := x.n.Chain().Head(p)
			if err != nil {
				return false
			}
			heads = append(heads, head)
		}
		for _, head := range heads {
			if head.Height != h || head.Root != heads[0].Root {
				return false
			}
		}
		return true
	})
}
