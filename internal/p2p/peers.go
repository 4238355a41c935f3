package p2p

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/onvm-network/onvm/internal/id"
)

// PeerInfo describes one connected peer, for GET /peers.
type PeerInfo struct {
	ID             string        `json:"peer_id"`
	Node           id.Node       `json:"node_id"` // zero if the peer's key is not Ed25519
	Addrs          []string      `json:"addrs"`   // of its open connections
	Direction      string        `json:"direction"`
	ConnectedSince time.Time     `json:"connected_since"`
	Latency        time.Duration `json:"latency_ns"` // EWMA of pings; 0 until measured
	AgentVersion   string        `json:"agent_version"`
	ONVM           bool          `json:"onvm"` // speaks the sync protocol
	Score          float64       `json:"score"`
}

// NodeOf returns the node id behind a peer id: the Ed25519 public key the
// peer id embeds. Peers with other key types have no node id.
func NodeOf(p peer.ID) (id.Node, error) {
	pk, err := p.ExtractPublicKey()
	if err != nil {
		return id.Node{}, fmt.Errorf("node of peer %s: %w", p, err)
	}
	if pk.Type() != crypto.Ed25519 {
		return id.Node{}, fmt.Errorf("node of peer %s: %w: key type %s", p, ErrDenied, pk.Type())
	}
	raw, err := pk.Raw()
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return id.Node{}, fmt.Errorf("node of peer %s: bad Ed25519 key", p)
	}
	return id.Node(raw), nil
}

// PeerOf returns the peer id of a node id.
func PeerOf(n id.Node) (peer.ID, error) { return PeerID(ed25519.PublicKey(n[:])) }

// isONVM reports whether p has told us (via identify) that it serves the
// sync protocol.
func isONVM(h host.Host, p peer.ID) bool {
	ps, err := h.Peerstore().SupportsProtocols(p, SyncProtocol)
	return err == nil && len(ps) > 0
}

// ONVMPeers returns the connected peers that speak the ONVM protocols.
func ONVMPeers(h host.Host) []peer.ID {
	var out []peer.ID
	for _, p := range h.Network().Peers() {
		if h.Network().Connectedness(p) == network.Connected && isONVM(h, p) {
			out = append(out, p)
		}
	}
	return out
}

// connTracker remembers since when each peer has been connected, for
// transports whose connections do not record it.
type connTracker struct {
	mu    sync.Mutex
	since map[peer.ID]time.Time
}

func newConnTracker() *connTracker { return &connTracker{since: make(map[peer.ID]time.Time)} }

func (t *connTracker) notifiee() *network.NotifyBundle {
	return &network.NotifyBundle{
		ConnectedF: func(_ network.Network, c network.Conn) {
			t.mu.Lock()
			defer t.mu.Unlock()
			if _, ok := t.since[c.RemotePeer()]; !ok {
				t.since[c.RemotePeer()] = time.Now()
			}
		},
		DisconnectedF: func(n network.Network, c network.Conn) {
			t.mu.Lock()
			defer t.mu.Unlock()
			if n.Connectedness(c.RemotePeer()) != network.Connected {
				delete(t.since, c.RemotePeer())
			}
		},
	}
}

func (t *connTracker) get(p peer.ID) time.Time {
	if t == nil {
		return time.Time{}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.since[p]
}

// Peers describes every connected peer, sorted by peer id. scores may be
// nil.
func Peers(h host.Host, scores *Scores) []PeerInfo { return peers(h, scores, nil) }

func peers(h host.Host, scores *Scores, tracker *connTracker) []PeerInfo {
	var out []PeerInfo
	for _, p := range h.Network().Peers() {
		conns := h.Network().ConnsToPeer(p)
		if len(conns) == 0 {
			continue
		}
		info := PeerInfo{ID: p.String(), Latency: h.Peerstore().LatencyEWMA(p), ONVM: isONVM(h, p), Score: scores.Score(p)}
		info.Node, _ = NodeOf(p)
		if av, err := h.Peerstore().Get(p, "AgentVersion"); err == nil {
			info.AgentVersion, _ = av.(string)
		}
		for i, c := range conns {
			st := c.Stat()
			if i == 0 || st.Opened.Before(info.ConnectedSince) {
				info.ConnectedSince, info.Direction = st.Opened, st.Direction.String()
			}
			info.Addrs = append(info.Addrs, c.RemoteMultiaddr().String())
		}
		if info.ConnectedSince.IsZero() {
			info.ConnectedSince = tracker.get(p)
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b PeerInfo) int { return bytes.Compare([]byte(a.ID), []byte(b.ID)) })
	return out
}

// MinPeers returns the gate the node checks before accepting work: nil
// when at least min ONVM peers are connected, ErrNotEnoughPeers otherwise.
// min ≤ 0 always passes.
func MinPeers(h host.Host, min int) func() error {
	return func() error {
		if min <= 0 {
			return nil
		}
		if n := len(ONVMPeers(h)); n < min {
			return fmt.Errorf("%w: %d connected, %d required", ErrNotEnoughPeers, n, min)
		}
		return nil
	}
}

// WaitForPeers blocks until at least min ONVM peers are connected or ctx
// ends.
func WaitForPeers(ctx context.Context, h host.Host, min int) error {
	sub, err := h.EventBus().Subscribe([]any{
		new(event.EvtPeerConnectednessChanged), new(event.EvtPeerIdentificationCompleted), new(event.EvtPeerProtocolsUpdated),
	})
	if err != nil {
		return fmt.Errorf("wait for peers: %w", err)
	}
	defer sub.Close()
	gate := MinPeers(h, min)
	// Events can be missed between the subscription and the first check,
	// and identify may complete without an event we see; re-check on a slow
	// tick as well.
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		if gate() == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %d peers: %w: %w", min, gate(), ctx.Err())
		case <-sub.Out():
		case <-tick.C:
		}
	}
}
