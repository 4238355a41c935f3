package replica

import (
	"context"
	"time"

	"github.com/onvm-network/onvm/internal/p2p"
)

// DefaultFirstSyncWait bounds how long Start waits for a first sync before
// it proposes anyway.
const DefaultFirstSyncWait = 20 * time.Second

// StartOptions configure Start.
type StartOptions struct {
	// ExpectPeers says the node was told where peers are (bootnodes or
	// mDNS). A node that does not hold its own vertices then waits for a
	// first sync before it proposes.
	ExpectPeers bool
	// FirstSyncWait bounds that wait (DefaultFirstSyncWait).
	FirstSyncWait time.Duration
}

// Start runs the proposer until the replica closes, after recovering this
// node's own chain of vertices when it may have lost it, then registers
// the node as a validator (once). It returns at once; the work runs in the
// background. What a crash left in the outbox goes out in the first
// vertices: nothing needs republishing.
//
// Why wait: a node that lost its database but kept its key would start
// again at sequence 1, and its new vertices would equivocate with the old
// ones still on the network. A node whose DAG holds none of its own
// vertices therefore first completes a sync session with a peer (which
// brings its old vertices back, if any) — or gives up after FirstSyncWait,
// which a node joining for the first time does when nobody answers.
// Operations staged meanwhile wait in the outbox.
func (r *Replica) Start(opts StartOptions) {
	if opts.FirstSyncWait <= 0 {
		opts.FirstSyncWait = DefaultFirstSyncWait
	}
	r.spawn(func() {
		if r.d.VersionVector()[r.self] == 0 && opts.ExpectPeers {
			r.awaitFirstSync(opts.FirstSyncWait)
		}
		if r.ctx.Err() != nil {
			return
		}
		if err := r.register(); err != nil {
			r.log.Warn("validator registration not published", "err", err)
		}
		r.spawn(r.heartbeatLoop)
		if err := r.prop.Run(r.ctx); err != nil && r.ctx.Err() == nil {
			r.log.Error("proposer stopped", "err", err)
		}
	})
}

// awaitFirstSync waits until a sync session with a peer completes, the
// wait runs out or the replica closes.
func (r *Replica) awaitFirstSync(wait time.Duration) {
	ctx, cancel := context.WithTimeout(r.ctx, wait)
	defer cancel()
	if err := r.net.WaitForPeers(ctx, 1); err != nil {
		r.log.Warn("no peer for a first sync; proposing anyway", "err", err)
		return
	}
	start := r.net.Syncer().Stats().Sessions
	for _, p := range p2p.ONVMPeers(r.net.Host()) {
		if err := r.net.Syncer().SyncWith(ctx, p); err == nil {
			r.log.Info("first sync done", "peer", p.String(), "own_seq", r.d.VersionVector()[r.self])
			return
		}
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for r.net.Syncer().Stats().Sessions == start {
		select {
		case <-ctx.Done():
			r.log.Warn("first sync did not complete; proposing anyway")
			return
		case <-t.C:
		}
	}
}
