package node

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/onvm-network/onvm/internal/config"
	"github.com/onvm-network/onvm/internal/p2p"
)

// TestRestartWithBootnodeDown: a node remembers the peers it met and dials
// them again after a restart, so with its only bootnode down it is back
// among its former peers within seconds instead of alone.
func TestRestartWithBootnodeDown(t *testing.T) {
	_, stopA, cfg := stoppableBootnode(t)
	b := startWith(t, t.TempDir(), cfg)
	dirC := t.TempDir()
	c, stopC := runWith(t, dirC, cfg)
	t.Cleanup(func() { stopC() })
	waitFor(t, 30*time.Second, "C connected to B, found through A", func() bool {
		return slices.Contains(p2p.ONVMPeers(c.n.Network().Host()), b.n.PeerID())
	})
	stopC()
	stopA()

	start := time.Now()
	c, stopC = runWith(t, dirC, cfg)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := c.n.Network().WaitForPeers(ctx, 1); err != nil {
		t.Fatalf("restarted with its bootnode down: %v", err)
	}
	if b.n.Network().Host().Network().Connectedness(c.n.PeerID()) != network.Connected {
		t.Fatal("the restarted node's peer is not its former peer B")
	}
	t.Logf("a peer %v after the restart", time.Since(start).Round(time.Millisecond))
}

// stoppableBootnode runs a node that the test may stop early, and returns
// it with a test configuration that has it as its bootnode.
func stoppableBootnode(t *testing.T) (boot clusterNode, stop func(), cfg config.Config) {
	t.Helper()
	boot, stop = runWith(t, t.TempDir(), testConfig())
	t.Cleanup(stop)
	cfg = testConfig()
	cfg.Network.Bootnodes = boot.n.P2PAddrs()[:1]
	return boot, stop, cfg
}
