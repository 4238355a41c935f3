package p2p

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/multiformats/go-multiaddr"
)

// NetworkHostConfig configures NewNetworkHost, the node's libp2p host: TCP
// and QUIC, TLS and Noise,
// Yamux, a connection manager, a resource manager, and go-libp2p's NAT
// traversal (AutoNAT, relay client, hole punching).
type NetworkHostConfig struct {
	Key ed25519.PrivateKey // the node identity; required
	// Listen multiaddrs (default: TCP and QUIC on 0.0.0.0 port 37000). A
	// taken TCP or UDP port moves up, at most 100 times; ports are never
	// shared with another process (no SO_REUSEPORT).
	Listen []string
	// AgentVersion is announced by identify (default "onvm").
	AgentVersion string
	// ConnLow and ConnHigh are the connection manager's watermarks: above
	// High it trims to Low, sparing protected peers and connections younger
	// than ConnGrace (defaults 64, 192, 1 min).
	ConnLow, ConnHigh int
	ConnGrace         time.Duration
	// PortMap asks the router for a port mapping (UPnP / NAT-PMP).
	PortMap bool
	// StaticRelays enables AutoRelay through these relays when the node
	// finds itself unreachable.
	StaticRelays []peer.AddrInfo
	// DisableNATTraversal turns off AutoNAT, the relay client and hole
	// punching (tests on loopback).
	DisableNATTraversal bool
	Logger              *slog.Logger
}

// DefaultListen are the listen addresses when none are configured.
var DefaultListen = []string{"/ip4/0.0.0.0/tcp/37000", "/ip4/0.0.0.0/udp/37000/quic-v1"}

// NewNetworkHost builds and starts the production libp2p host. TLS is
// offered before Noise: its AES-GCM runs on hardware support where Noise's
// ChaCha20 does not, which matters for blob transfer.
func NewNetworkHost(cfg NetworkHostConfig) (host.Host, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	priv, err := crypto.UnmarshalEd25519PrivateKey(cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("p2p identity: %w", err)
	}
	if cfg.AgentVersion == "" {
		cfg.AgentVersion = "onvm"
	}
	if cfg.ConnLow <= 0 {
		cfg.ConnLow = 64
	}
	if cfg.ConnHigh <= cfg.ConnLow {
		cfg.ConnHigh = max(192, cfg.ConnLow*2)
	}
	if cfg.ConnGrace <= 0 {
		cfg.ConnGrace = time.Minute
	}
	cm, err := connmgr.NewConnManager(cfg.ConnLow, cfg.ConnHigh, connmgr.WithGracePeriod(cfg.ConnGrace))
	if err != nil {
		return nil, fmt.Errorf("connection manager: %w", err)
	}
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(rcmgr.DefaultLimits.AutoScale()))
	if err != nil {
		return nil, fmt.Errorf("resource manager: %w", err)
	}
	opts := []libp2p.Option{
		libp2p.Identity(priv),
		libp2p.NoListenAddrs,
		// Without SO_REUSEPORT a TCP port is this host's alone: a second
		// process asking for it gets EADDRINUSE and moves up (QUIC's
		// socket never sets it). See docs/rationale/network.md.
		libp2p.Transport(tcp.NewTCPTransport, tcp.DisableReuseport()),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(libp2ptls.ID, libp2ptls.New),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.ConnectionManager(cm),
		libp2p.ResourceManager(rm),
		libp2p.UserAgent(cfg.AgentVersion),
	}
	if cfg.DisableNATTraversal {
		opts = append(opts, libp2p.DisableRelay())
	} else {
		opts = append(opts, libp2p.EnableNATService(), libp2p.EnableAutoNATv2(), libp2p.EnableHolePunching(), libp2p.EnableRelay())
		if len(cfg.StaticRelays) > 0 {
			opts = append(opts, libp2p.EnableAutoRelayWithStaticRelays(cfg.StaticRelays))
		}
	}
	if cfg.PortMap {
		opts = append(opts, libp2p.NATPortMap())
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("start libp2p host: %w", err)
	}
	listen := cfg.Listen
	if len(listen) == 0 {
		listen = DefaultListen
	}
	for _, s := range listen {
		if err := listenBumping(h, s, log); err != nil {
			_ = h.Close()
			return nil, err
		}
	}
	return h, nil
}

// listenBumping listens on s, moving a taken TCP or UDP port up.
func listenBumping(h host.Host, s string, log *slog.Logger) error {
	addr, err := multiaddr.NewMultiaddr(s)
	if err != nil {
		return fmt.Errorf("listen %q: %w", s, err)
	}
	var first error
	for range 100 {
		err := h.Network().Listen(addr)
		if err == nil {
			return nil
		}
		first = errors.Join(first, err)
		next, ok := bumpPort(addr)
		if !ok {
			break
		}
		log.Info("p2p port taken, trying the next", "addr", addr.String())
		addr = next
	}
	return fmt.Errorf("listen %s: %w", s, first)
}

// bumpPort returns addr with its TCP or UDP port plus one; port 0 (any)
// and 65535 cannot move.
func bumpPort(addr multiaddr.Multiaddr) (multiaddr.Multiaddr, bool) {
	for _, proto := range []int{multiaddr.P_TCP, multiaddr.P_UDP} {
		v, err := addr.ValueForProtocol(proto)
		if err != nil {
			continue
		}
		port, err := strconv.Atoi(v)
		if err != nil || port == 0 || port >= 65535 {
			return nil, false
		}
		name := "/tcp/"
		if proto == multiaddr.P_UDP {
			name = "/udp/"
		}
		next, err := multiaddr.NewMultiaddr(strings.Replace(addr.String(), name+v, name+strconv.Itoa(port+1), 1))
		return next, err == nil
	}
	return nil, false
}
