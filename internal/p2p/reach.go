package p2p

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"

	"github.com/onvm-network/onvm/internal/id"
)

// DefaultReachWait bounds Reach: how long a caller waits to learn that a
// peer it is about to send a request to is unreachable.
const DefaultReachWait = 2 * time.Second

// reachFresh is how long a peer that answered a ping counts as reachable
// without another.
const reachFresh = time.Second

// reachability remembers which peers answered a ping lately.
type reachability struct {
	mu sync.Mutex
	ok map[peer.ID]time.Time
}

// Reach returns nil when node n answers within wait (DefaultReachWait if
// wait ≤ 0): it connects when not connected, then pings over the
// connection, so that a peer across a partition or frozen behind a
// connection that still looks open is found out in about wait, not after
// a request's whole deadline. A ping answered in the last second stands.
// Otherwise the error wraps ErrUnavailable.
func (n *Network) Reach(ctx context.Context, node id.Node, wait time.Duration) error {
	if wait <= 0 {
		wait = DefaultReachWait
	}
	p, err := PeerOf(node)
	if err != nil {
		return fmt.Errorf("reach %s: %w", node, err)
	}
	n.reach.mu.Lock()
	last, ok := n.reach.ok[p]
	n.reach.mu.Unlock()
	if ok && time.Since(last) < reachFresh && n.h.Network().Connectedness(p) == network.Connected {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if n.h.Network().Connectedness(p) != network.Connected {
		if err := n.h.Connect(ctx, peer.AddrInfo{ID: p}); err != nil {
			return fmt.Errorf("reach %s: %w: %w", node, ErrUnavailable, err)
		}
	}
	select {
	case res := <-ping.Ping(ctx, n.h, p):
		if res.Error != nil {
			return fmt.Errorf("reach %s: %w: %w", node, ErrUnavailable, res.Error)
		}
	case <-ctx.Done():
		err := ctx.Err()
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer to a ping within %s", wait)
		}
		return fmt.Errorf("reach %s: %w: %w", node, ErrUnavailable, err)
	}
	n.reach.mu.Lock()
	if n.reach.ok == nil {
		n.reach.ok = make(map[peer.ID]time.Time)
	}
	n.reach.ok[p] = time.Now()
	n.reach.mu.Unlock()
	return nil
}
