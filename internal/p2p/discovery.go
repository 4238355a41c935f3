package p2p

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"

	"github.com/onvm-network/onvm/internal/id"
)

// DHT namespace: protocol ids are DHTPrefix + "/kad/1.0.0", so ONVM's DHT
// never mixes with the public IPFS one.
const (
	DHTPrefix   protocol.ID = "/onvm"
	DHTProtocol protocol.ID = DHTPrefix + "/kad/1.0.0"
)

// DiscoveryConfig configures Discovery. Zero fields take defaults.
type DiscoveryConfig struct {
	// Bootnodes are dialled at start and re-dialled whenever disconnected,
	// with exponential backoff between failures.
	Bootnodes []peer.AddrInfo
	// MDNS enables local-network discovery under MDNSService ("onvm").
	MDNS        bool
	MDNSService string
	// DisableDHT turns the Kademlia DHT off (provider records too).
	DisableDHT bool
	// BackoffMin, BackoffMax bound the re-dial backoff (1 s, 5 min).
	BackoffMin, BackoffMax time.Duration
	// CheckInterval is how often a connected bootnode is checked (10 s).
	CheckInterval time.Duration
	// DialTimeout bounds one dial (15 s).
	DialTimeout time.Duration
	// ReprovideInterval re-announces provider records (12 h).
	ReprovideInterval time.Duration
	// PeerFile remembers the ONVM peers this node completed identify with
	// (at most 64, the most recently seen), saved within a second of
	// meeting one. They are dialled at start, again with backoff while
	// the node has no peer at all, and serve as the DHT's bootstrap peers
	// beside the bootnodes. Empty: nothing is remembered across restarts.
	PeerFile string
}

func (c *DiscoveryConfig) defaults() {
	if c.MDNSService == "" {
		c.MDNSService = "onvm"
	}
	if c.BackoffMin <= 0 {
		c.BackoffMin = time.Second
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = 5 * time.Minute
	}
	if c.CheckInterval <= 0 {
		c.CheckInterval = 10 * time.Second
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 15 * time.Second
	}
	if c.ReprovideInterval <= 0 {
		c.ReprovideInterval = 12 * time.Hour
	}
}

// Discovery finds and keeps peers: bootnodes, mDNS, and the DHT, which
// also holds provider records for blobs and programs.
type Discovery struct {
	h    host.Host
	cfg  DiscoveryConfig
	log  *slog.Logger
	kad  *dht.IpfsDHT // nil when disabled
	mdns mdns.Service

	mu       sync.Mutex
	provided map[id.Hash]struct{}
	known    *peerFile

	ctx context.Context
	wg  *sync.WaitGroup

	dials dialCounter
}

type dialCounter struct {
	mu sync.Mutex
	n  map[peer.ID]int
}

func (a *dialCounter) inc(p peer.ID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n == nil {
		a.n = make(map[peer.ID]int)
	}
	a.n[p]++
}

func (a *dialCounter) get(p peer.ID) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n[p]
}

// NewDiscovery starts discovery on h for the lifetime of ctx; wg owns its
// goroutines. Close stops the DHT and mDNS.
func NewDiscovery(ctx context.Context, wg *sync.WaitGroup, h host.Host, cfg DiscoveryConfig, log *slog.Logger) (*Discovery, error) {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Discovery{h: h, cfg: cfg, log: log, provided: make(map[id.Hash]struct{}), ctx: ctx, wg: wg}
	var err error
	if d.known, err = openPeerFile(cfg.PeerFile); err != nil {
		log.Warn("cannot read remembered peers", "err", err)
	}
	remembered := d.known.list()
	// Subscribed before anything dials, so that no peer is missed.
	sub, err := h.EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted))
	if err != nil {
		return nil, fmt.Errorf("remember peers: %w", err)
	}
	wg.Go(func() { d.remember(sub) })
	if !cfg.DisableDHT {
		kad, err := dht.New(h,
			dht.Mode(dht.ModeServer),
			dht.ProtocolPrefix(DHTPrefix),
			dht.DisableValues(),
			dht.BootstrapPeersFunc(d.bootstrapPeers),
		)
		if err != nil {
			return nil, fmt.Errorf("start dht: %w", err)
		}
		d.kad = kad
		if err := kad.Bootstrap(ctx); err != nil {
			_ = kad.Close()
			return nil, fmt.Errorf("bootstrap dht: %w", err)
		}
		wg.Go(d.reprovide)
	}
	for _, b := range cfg.Bootnodes {
		if b.ID == h.ID() {
			continue
		}
		wg.Go(func() { d.keepBootnode(b) })
	}
	wg.Go(func() { d.redial(remembered) })
	if cfg.MDNS {
		d.mdns = mdns.NewMdnsService(h, cfg.MDNSService, d)
		if err := d.mdns.Start(); err != nil {
			_ = d.Close()
			return nil, fmt.Errorf("start mdns: %w", err)
		}
	}
	return d, nil
}

// HandlePeerFound implements mdns.Notifee: a peer found on the local
// network is dialled.
func (d *Discovery) HandlePeerFound(ai peer.AddrInfo) {
	if ai.ID == d.h.ID() || d.ctx.Err() != nil {
		return
	}
	d.wg.Go(func() { d.dial(ai, "mdns") })
}

// dial connects to ai within DialTimeout and logs the outcome.
func (d *Discovery) dial(ai peer.AddrInfo, via string) {
	ctx, cancel := context.WithTimeout(d.ctx, d.cfg.DialTimeout)
	defer cancel()
	if err := d.h.Connect(ctx, ai); err != nil {
		d.log.Debug("cannot connect to peer", "peer", ai.ID.String(), "via", via, "err", err)
		return
	}
	d.log.Info("connected to peer", "peer", ai.ID.String(), "via", via)
}

// keepBootnode keeps one bootnode connected: dial, and after a failure
// wait a backoff that doubles (with jitter) up to BackoffMax; after a
// success check again every CheckInterval.
func (d *Discovery) keepBootnode(ai peer.AddrInfo) {
	backoff := d.cfg.BackoffMin
	for {
		wait := d.cfg.CheckInterval
		if d.h.Network().Connectedness(ai.ID) != network.Connected {
			ctx, cancel := context.WithTimeout(d.ctx, d.cfg.DialTimeout)
			d.dials.inc(ai.ID)
			err := d.h.Connect(ctx, ai)
			cancel()
			switch {
			case d.ctx.Err() != nil:
				return
			case err != nil:
				d.log.Debug("cannot reach bootnode", "peer", ai.ID.String(), "retry_in", backoff, "err", err)
				wait = backoff/2 + rand.N(backoff/2+1)
				backoff = min(2*backoff, d.cfg.BackoffMax)
			default:
				d.h.ConnManager().Protect(ai.ID, "onvm-bootnode") // never trimmed
				d.log.Info("connected to peer", "peer", ai.ID.String(), "via", "bootnode")
				backoff = d.cfg.BackoffMin
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-d.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// peerSaveDelay is how long after meeting a new peer the peer file is
// saved: one write for the burst of peers met at start.
const peerSaveDelay = time.Second

// remember notes every ONVM peer that completes identify in the peer file
// and saves it, once more when discovery stops.
func (d *Discovery) remember(sub event.Subscription) {
	defer sub.Close()
	var save <-chan time.Time
	for {
		select {
		case <-d.ctx.Done():
			for drained := false; !drained; { // the peers met just before the stop too
				select {
				case e := <-sub.Out():
					d.note(e)
				default:
					drained = true
				}
			}
			d.savePeers()
			return
		case e, ok := <-sub.Out():
			if !ok {
				return
			}
			if d.note(e) && save == nil {
				save = time.After(peerSaveDelay)
			}
		case <-save:
			save = nil
			d.savePeers()
		}
	}
}

// note remembers the peer of an identify event if it speaks ONVM.
func (d *Discovery) note(e any) bool {
	ev, _ := e.(event.EvtPeerIdentificationCompleted)
	if ev.Peer == "" || ev.Peer == d.h.ID() || !slices.Contains(ev.Protocols, SyncProtocol) {
		return false
	}
	d.known.note(ev.Peer, ev.ListenAddrs, time.Now())
	return true
}

func (d *Discovery) savePeers() {
	if err := d.known.save(); err != nil {
		d.log.Warn("cannot remember peers", "err", err)
	}
}

// redial dials the peers remembered from an earlier run, all at once, and
// again with a doubling backoff while the node has no peer at all: after a
// restart the former peers are found even when every bootnode is down.
func (d *Discovery) redial(peers []peer.AddrInfo) {
	peers = slices.DeleteFunc(peers, func(ai peer.AddrInfo) bool { return ai.ID == d.h.ID() })
	if len(peers) == 0 {
		return
	}
	backoff := d.cfg.BackoffMin
	for {
		var wg sync.WaitGroup
		for _, ai := range peers {
			if d.h.Network().Connectedness(ai.ID) == network.Connected {
				continue
			}
			wg.Go(func() { d.dial(ai, "remembered") })
		}
		wg.Wait()
		if len(d.h.Network().Peers()) > 0 {
			return
		}
		t := time.NewTimer(backoff/2 + rand.N(backoff/2+1))
		backoff = min(2*backoff, d.cfg.BackoffMax)
		select {
		case <-d.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// bootstrapPeers are the peers the DHT starts from and returns to when its
// routing table empties: the bootnodes and the remembered peers.
func (d *Discovery) bootstrapPeers() []peer.AddrInfo {
	out := slices.Clone(d.cfg.Bootnodes)
	for _, ai := range d.known.list() {
		if ai.ID != d.h.ID() {
			out = append(out, ai)
		}
	}
	return out
}

// Provide announces in the DHT that this node provides h (a blob or
// program id), and keeps re-announcing it every ReprovideInterval.
func (d *Discovery) Provide(ctx context.Context, h id.Hash) error {
	if d.kad == nil {
		return fmt.Errorf("provide %s: %w: dht disabled", h, ErrUnavailable)
	}
	d.mu.Lock()
	d.provided[h] = struct{}{}
	d.mu.Unlock()
	if err := d.kad.Provide(ctx, CIDOf(h), true); err != nil {
		return fmt.Errorf("provide %s: %w", h, err)
	}
	return nil
}

// StopProviding stops re-announcing h (records expire on their own).
func (d *Discovery) StopProviding(h id.Hash) {
	d.mu.Lock()
	delete(d.provided, h)
	d.mu.Unlock()
}

func (d *Discovery) reprovide() {
	t := time.NewTicker(d.cfg.ReprovideInterval)
	defer t.Stop()
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-t.C:
		}
		d.mu.Lock()
		keys := make([]id.Hash, 0, len(d.provided))
		for h := range d.provided {
			keys = append(keys, h)
		}
		d.mu.Unlock()
		for _, h := range keys {
			ctx, cancel := context.WithTimeout(d.ctx, time.Minute)
			if err := d.kad.Provide(ctx, CIDOf(h), true); err != nil && d.ctx.Err() == nil {
				d.log.Debug("reprovide failed", "blob", h.String(), "err", err)
			}
			cancel()
		}
	}
}

// FindProviders returns up to limit peers the DHT says provide h.
func (d *Discovery) FindProviders(ctx context.Context, h id.Hash, limit int) ([]peer.AddrInfo, error) {
	if d.kad == nil {
		return nil, fmt.Errorf("find providers of %s: %w: dht disabled", h, ErrUnavailable)
	}
	var out []peer.AddrInfo
	for ai := range d.kad.FindProvidersAsync(ctx, CIDOf(h), limit) {
		if ai.ID != d.h.ID() {
			out = append(out, ai)
		}
	}
	return out, nil
}

// DHT returns the Kademlia DHT, nil when disabled.
func (d *Discovery) DHT() *dht.IpfsDHT { return d.kad }

// Close stops mDNS and the DHT. The caller cancels the context given to
// NewDiscovery and waits for its wait group.
func (d *Discovery) Close() error {
	var errs []error
	if d.mdns != nil {
		errs = append(errs, d.mdns.Close())
	}
	if d.kad != nil {
		errs = append(errs, d.kad.Close())
	}
	return errors.Join(errs...)
}
