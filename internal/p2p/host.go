// Package p2p runs the node's libp2p host.
//
// For now this is a minimal host: the node's Ed25519 identity, TCP
// listeners whose port moves up when taken and best-effort dials to
// bootnodes. mDNS discovery (network.enable_mdns) arrives with the network
// layer. Protocols (gossip, DHT, transfer streams)
// arrive with the network layer; this file must stay free of them.
package p2p

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// maxPortTries bounds how far a taken port is moved up.
const maxPortTries = 100

// dialTimeout bounds one dial to a bootnode.
const dialTimeout = 15 * time.Second

// HostConfig configures NewHost.
type HostConfig struct {
	Key        ed25519.PrivateKey // the node identity
	Listen     []string           // multiaddrs; a taken TCP port moves up
	Bootnodes  []string           // dialled once at start, failures logged
	EnableMDNS bool               // not yet implemented: logged
	Logger     *slog.Logger
}

// Host is a running libp2p host.
type Host struct {
	h      host.Host
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
	err    error
}

// NewHost starts a libp2p host listening on cfg.Listen.
func NewHost(cfg HostConfig) (*Host, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	priv, err := crypto.UnmarshalEd25519PrivateKey(cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("p2p identity: %w", err)
	}
	h, err := libp2p.New(libp2p.Identity(priv), libp2p.NoListenAddrs)
	if err != nil {
		return nil, fmt.Errorf("start libp2p host: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	hh := &Host{h: h, log: log, ctx: ctx, cancel: cancel}
	for _, s := range cfg.Listen {
		if err := hh.listen(s); err != nil {
			_ = hh.Close()
			return nil, err
		}
	}
	for _, s := range cfg.Bootnodes {
		ai, err := ParseBootnode(s)
		if err != nil {
			log.Warn("skipping invalid bootnode", "bootnode", s, "err", err)
			continue
		}
		hh.connect(*ai, "bootnode")
	}
	if cfg.EnableMDNS {
		log.Warn("mDNS discovery is not implemented yet; network.enable_mdns has no effect")
	}
	return hh, nil
}

// listen binds one multiaddr, moving a taken TCP port up.
func (h *Host) listen(s string) error {
	addr, err := multiaddr.NewMultiaddr(s)
	if err != nil {
		return fmt.Errorf("listen %q: %w", s, err)
	}
	var first error
	for range maxPortTries {
		err := h.h.Network().Listen(addr)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
		next, ok := nextPort(addr)
		if !ok {
			break
		}
		h.log.Info("p2p port taken, trying the next", "addr", addr.String())
		addr = next
	}
	return fmt.Errorf("listen %s: %w", s, first)
}

// nextPort returns addr with its TCP port plus one, when it has a non-zero
// TCP port below 65535.
func nextPort(addr multiaddr.Multiaddr) (multiaddr.Multiaddr, bool) {
	v, err := addr.ValueForProtocol(multiaddr.P_TCP)
	if err != nil {
		return nil, false
	}
	port, err := strconv.Atoi(v)
	if err != nil || port == 0 || port >= 65535 {
		return nil, false
	}
	next, err := multiaddr.NewMultiaddr(strings.Replace(addr.String(), "/tcp/"+v, "/tcp/"+strconv.Itoa(port+1), 1))
	if err != nil {
		return nil, false
	}
	return next, true
}

// connect dials ai in the background; the host waits for it on Close.
func (h *Host) connect(ai peer.AddrInfo, how string) {
	if ai.ID == h.h.ID() {
		return
	}
	h.wg.Go(func() {
		ctx, cancel := context.WithTimeout(h.ctx, dialTimeout)
		defer cancel()
		if err := h.h.Connect(ctx, ai); err != nil {
			if h.ctx.Err() == nil {
				h.log.Warn("cannot connect to peer", "peer", ai.ID.String(), "via", how, "err", err)
			}
			return
		}
		h.log.Info("connected to peer", "peer", ai.ID.String(), "via", how)
	})
}

// ID returns the libp2p peer id.
func (h *Host) ID() peer.ID { return h.h.ID() }

// Libp2p returns the underlying host for the network layer.
func (h *Host) Libp2p() host.Host { return h.h }

// Peers returns the number of connected peers.
func (h *Host) Peers() int { return len(h.h.Network().Peers()) }

// Addrs returns the host's dialable addresses, each ending in /p2p/<id>.
func (h *Host) Addrs() []multiaddr.Multiaddr {
	addrs, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: h.h.ID(), Addrs: h.h.Addrs()})
	if err != nil {
		return nil
	}
	return addrs
}

// ListenAddrs returns the bound listen addresses (before interface
// expansion), each ending in /p2p/<id>.
func (h *Host) ListenAddrs() []multiaddr.Multiaddr {
	addrs, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: h.h.ID(), Addrs: h.h.Network().ListenAddresses()})
	if err != nil {
		return nil
	}
	return addrs
}

// Close cancels pending dials, waits for them and closes the host. It is
// idempotent.
func (h *Host) Close() error {
	h.once.Do(func() {
		h.cancel()
		h.wg.Wait()
		h.err = h.h.Close()
	})
	return h.err
}

// ParseBootnode parses a bootnode multiaddr ending in /p2p/<peer id>. Like
// the original, an address whose last segment is a bare peer id (40+
// characters) without /p2p/ is accepted too.
func ParseBootnode(s string) (*peer.AddrInfo, error) {
	s = strings.TrimSpace(s)
	addr, err := multiaddr.NewMultiaddr(s)
	if err != nil && !strings.Contains(s, "/p2p/") {
		i := strings.LastIndex(s, "/")
		if i >= 0 && len(s)-i-1 >= 40 {
			addr, err = multiaddr.NewMultiaddr(s[:i] + "/p2p/" + s[i+1:])
		}
	}
	if err != nil {
		return nil, fmt.Errorf("bootnode %q: %w", s, err)
	}
	ai, err := peer.AddrInfoFromP2pAddr(addr)
	if err != nil {
		return nil, fmt.Errorf("bootnode %q: %w", s, err)
	}
	return ai, nil
}

// PeerID returns the libp2p peer id of an Ed25519 public key (a node id).
func PeerID(pub ed25519.PublicKey) (peer.ID, error) {
	k, err := crypto.UnmarshalEd25519PublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("peer id: %w", err)
	}
	return peer.IDFromPublicKey(k)
}
