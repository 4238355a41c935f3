package node

import (
	"fmt"
	"testing"
	"time"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/internal/id"
)

// TestCommitteeCompilesOnReplication: a program deployed on A whose
// committee is B is compiled on B when its manifest arrives, before any
// execution reaches B — before, the first forwarded executions waited for
// the compilation or answered 503 compiling.
func TestCommitteeCompilesOnReplication(t *testing.T) {
	ctx := t.Context()
	cfg := testConfig()
	a := startWith(t, t.TempDir(), cfg)
	cfgB := cfg
	cfgB.Network.Bootnodes = a.n.P2PAddrs()[:1]
	b := startWith(t, t.TempDir(), cfgB)
	waitFor(t, 30*time.Second, "both validators known to A", func() bool {
		return len(a.n.Replica().Validators()) == 2
	})
	code := putWasm(t)
	var p id.Program
	for i := 0; ; i++ {
		if i == 32 {
			t.Fatal("no program of 32 got B as its committee")
		}
		d, err := a.c.Deploy(ctx, client.DeployRequest{Wasm: code, Entrypoint: "put", Salt: fmt.Appendf(nil, "warm %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		c, err := a.c.Committee(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Members[0].Node == b.n.ID().String() {
			if p, err = id.ParseProgram(d.ID); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	waitFor(t, 30*time.Second, "the program compiled on its committee B", func() bool {
		return b.n.Chain().Compiled(p)
	})
}
