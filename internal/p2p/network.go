package p2p

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/id"
)

// Config configures a Network. The zero value is usable: no bootnodes, no
// mDNS, DHT on, default limits.
type Config struct {
	Discovery DiscoveryConfig
	Gossip    GossipConfig
	Sync      SyncConfig
	Blob      BlobConfig
	Exec      ExecConfig
	Agree     AgreeConfig
	// Scores is the peer score book to share (nil: a new one). The node
	// creates it before the DAG so that the DAG can blame the authors of
	// refused operations in it (Scores.BlameAuthor).
	Scores *Scores
	Logger *slog.Logger
}

// Network is the node's network layer on one libp2p host: gossip, sync,
// discovery, blob transfer and execution forwarding, sharing one score
// book and one provider book.
type Network struct {
	h         host.Host
	d         *dag.DAG
	log       *slog.Logger
	scores    *Scores
	providers *ProviderBook
	syncer    *Syncer
	gossip    *Gossip
	disc      *Discovery
	blobs     *BlobService // nil without a blob store
	exec      *Exec
	agree     *Agree
	tracker   *connTracker
	notifiee  *network.NotifyBundle
	reach     reachability

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// New starts the network services on h for d. store may be nil (no blob
// transfer). The services run until Close; ctx only bounds the start.
func New(ctx context.Context, h host.Host, d *dag.DAG, store BlobStore, cfg Config) (*Network, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	life, cancel := context.WithCancel(context.WithoutCancel(ctx))
	scores := cfg.Scores
	if scores == nil {
		scores = NewScores()
	}
	n := &Network{h: h, d: d, log: log, scores: scores, providers: NewProviderBook(), cancel: cancel, tracker: newConnTracker()}
	n.notifiee = n.tracker.notifiee()
	h.Network().Notify(n.notifiee)
	fail := func(err error) (*Network, error) {
		_ = n.Close()
		return nil, err
	}
	n.syncer = NewSyncer(h, d, n.scores, cfg.Sync, log)
	n.exec = NewExec(h, cfg.Exec, log)
	n.agree = NewAgree(life, &n.wg, h, n.scores, cfg.Agree, log)
	var err error
	if n.disc, err = NewDiscovery(life, &n.wg, h, cfg.Discovery, log); err != nil {
		return fail(err)
	}
	if store != nil {
		n.blobs = NewBlobService(h, store, n.providers, n.disc, n.scores, cfg.Blob, log)
	}
	if n.gossip, err = NewGossip(life, h, d, n.scores, n.providers, n.syncer, cfg.Gossip, log); err != nil {
		return fail(err)
	}
	n.gossip.Start(life, &n.wg)
	if err := n.syncer.Start(life, &n.wg); err != nil {
		return fail(err)
	}
	if err := ctx.Err(); err != nil {
		return fail(fmt.Errorf("start network: %w", err))
	}
	return n, nil
}

// Close stops every service and waits for their goroutines; the host is
// the caller's to close (after this). Idempotent.
func (n *Network) Close() error {
	n.closeOnce.Do(func() {
		for _, p := range []protocol.ID{SyncProtocol, BlobProtocol, ExecProtocol} {
			n.h.RemoveStreamHandler(p)
		}
		n.h.Network().StopNotify(n.notifiee)
		n.cancel()
		var errs []error
		if n.disc != nil {
			errs = append(errs, n.disc.Close())
		}
		n.wg.Wait()
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

// Host returns the libp2p host.
func (n *Network) Host() host.Host { return n.h }

// Scores returns the peer score book.
func (n *Network) Scores() *Scores { return n.scores }

// Providers returns the provider book (the node adds BlobPublished
// publishers to it).
func (n *Network) Providers() *ProviderBook { return n.providers }

// Syncer returns the sync service.
func (n *Network) Syncer() *Syncer { return n.syncer }

// Gossip returns the gossip service.
func (n *Network) Gossip() *Gossip { return n.gossip }

// Discovery returns the discovery service.
func (n *Network) Discovery() *Discovery { return n.disc }

// Exec returns the execution-forwarding transport.
func (n *Network) Exec() *Exec { return n.exec }

// Agree returns the committee message service.
func (n *Network) Agree() *Agree { return n.agree }

// Announce publishes a vertex the node just proposed: the Proposer's
// Announce hook. Failures are logged; sync delivers the vertex anyway.
func (n *Network) Announce(ctx context.Context, v *dag.Vertex) {
	if err := n.gossip.PublishVertex(ctx, v); err != nil && ctx.Err() == nil {
		n.log.Debug("cannot gossip vertex", "err", err)
	}
}

// Provide tells the network this node holds blob or program h: a DHT
// provider record (re-announced periodically) and a gossip announcement.
func (n *Network) Provide(ctx context.Context, blobs []id.Blob, programs []id.Program) error {
	var errs []error
	for _, b := range blobs {
		if err := n.disc.Provide(ctx, id.Hash(b)); err != nil && !errors.Is(err, ErrUnavailable) {
			errs = append(errs, err)
		}
	}
	for _, p := range programs {
		if err := n.disc.Provide(ctx, id.Hash(p)); err != nil && !errors.Is(err, ErrUnavailable) {
			errs = append(errs, err)
		}
	}
	errs = append(errs, n.gossip.Announce(ctx, Announcement{Blobs: blobs, Programs: programs}))
	return errors.Join(errs...)
}

// FetchBlob makes blob b complete locally (see BlobService.Fetch); hints
// are peers known to hold it.
func (n *Network) FetchBlob(ctx context.Context, b id.Blob, hints ...peer.ID) (blob.Info, error) {
	if n.blobs == nil {
		return blob.Info{}, fmt.Errorf("fetch blob %s: %w: no blob store", b, ErrUnavailable)
	}
	return n.blobs.Fetch(ctx, b, hints...)
}

// Peers describes the connected peers (GET /peers).
func (n *Network) Peers() []PeerInfo { return peers(n.h, n.scores, n.tracker) }

// WaitForPeers blocks until min ONVM peers are connected.
func (n *Network) WaitForPeers(ctx context.Context, min int) error {
	return WaitForPeers(ctx, n.h, min)
}

// MinPeers returns the gate for --min-peers (nil error when enough peers).
func (n *Network) MinPeers(min int) func() error { return MinPeers(n.h, min) }

// SelfInfo describes this node on the network, for GET /peers.
type SelfInfo struct {
	ID    string   `json:"peer_id"`
	Node  id.Node  `json:"node_id"`
	Addrs []string `json:"addrs"` // each ending in /p2p/<peer id>
}

// Self describes this node.
func (n *Network) Self() SelfInfo {
	info := SelfInfo{ID: n.h.ID().String(), Addrs: FullAddrs(n.h)}
	info.Node, _ = NodeOf(n.h.ID())
	if info.Addrs == nil {
		info.Addrs = []string{}
	}
	return info
}
