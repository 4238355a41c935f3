package node

import (
	"fmt"
	"testing"
	"time"

	"github.com/onvm-network/onvm/client"
)

// TestValidatorAllowList: with network.validators naming node A on both
// nodes, every program deployed on B — a registered validator outside the
// list — gets A as its committee, and executes from B through A.
func TestValidatorAllowList(t *testing.T) {
	ctx := t.Context()
	dirA := t.TempDir()
	cfg := testConfig()
	first, stop := runWith(t, dirA, cfg) // to learn A's node id
	allow := []string{first.n.ID().String()}
	stop()
	cfgA := cfg
	cfgA.Network.Validators = allow
	a := startWith(t, dirA, cfgA)
	cfgB := cfgA
	cfgB.Network.Bootnodes = a.n.P2PAddrs()[:1]
	b := startWith(t, t.TempDir(), cfgB)
	waitFor(t, 30*time.Second, "each node's registration applied on the other", func() bool {
		return b.n.Replica().IsValidator(a.n.ID()) && a.n.Replica().IsValidator(b.n.ID())
	})
	if vs := b.n.Replica().Validators(); len(vs) != 1 || vs[0].Node != a.n.ID() {
		t.Fatalf("B chooses committees among %v, want A alone", vs)
	}
	code := putWasm(t)
	// With B chosen as often as A, eight programs all on A would happen
	// once in 256 runs.
	for i := range 8 {
		p, err := b.c.Deploy(ctx, client.DeployRequest{Wasm: code, Entrypoint: "put", Salt: fmt.Appendf(nil, "allow %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		c, err := b.c.Committee(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Members) != 1 || c.Members[0].Node != a.n.ID().String() {
			t.Fatalf("program %d: committee %+v, want node A alone", i, c.Members)
		}
		if i == 0 {
			if _, err := b.c.Execute(ctx, client.ExecuteRequest{ProgramID: p.ID, Input: []byte("k")}); err != nil {
				t.Fatalf("execute on B, committee A: %v", err)
			}
		}
	}
}
