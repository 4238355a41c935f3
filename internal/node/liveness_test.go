package node

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/onvm-network/onvm/client"
)

// TestDepartedValidatorNotChosen: a validator that registered and then
// left stops being chosen for new committees once it has not been heard
// from for network.validator_timeout; before that fix every program whose
// rendezvous hash fell on it answered 503 for good.
func TestDepartedValidatorNotChosen(t *testing.T) {
	ctx := t.Context()
	cfg := testConfig()
	cfg.Network.ValidatorTimeout = 5 * time.Second
	a := startWith(t, t.TempDir(), cfg)
	cfgB := cfg
	cfgB.Network.Bootnodes = a.n.P2PAddrs()[:1]
	b, stopB := runWith(t, t.TempDir(), cfgB)
	defer stopB()
	waitFor(t, 30*time.Second, "both validators known to A", func() bool {
		return len(a.n.Replica().Validators()) == 2
	})
	gone := b.n.ID().String()
	stopB()

	code := putWasm(t)
	salt := 0
	// Deploy with new salts until eight in a row have A as their committee:
	// with B still chosen, about half of them would name B.
	waitFor(t, 60*time.Second, "new committees without the departed validator", func() bool {
		for range 8 {
			salt++
			dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			p, err := a.c.Deploy(dctx, client.DeployRequest{Wasm: code, Entrypoint: "put", Salt: fmt.Appendf(nil, "live %d", salt)})
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			c, err := a.c.Committee(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range c.Members {
				if m.Node == gone {
					return false
				}
			}
		}
		return true
	})
}
