package p2p

import (
	"crypto/ed25519"
	"fmt"
	"strings"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// FullAddrs returns the host's addresses, each ending in /p2p/<peer id>:
// what an operator copies into another node's bootnodes.
func FullAddrs(h host.Host) []string {
	suffix := "/p2p/" + h.ID().String()
	var out []string
	for _, a := range h.Addrs() {
		out = append(out, a.String()+suffix)
	}
	return out
}

// ParseBootnodes parses bootnode multiaddrs (ParseBootnode), merging
// addresses of the same peer. Invalid entries are returned as errors
// alongside the valid ones, so the caller can log and skip them.
func ParseBootnodes(ss []string) ([]peer.AddrInfo, []error) {
	var out []peer.AddrInfo
	var errs []error
	index := map[peer.ID]int{}
	for _, s := range ss {
		if strings.TrimSpace(s) == "" {
			continue
		}
		ai, err := ParseBootnode(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if i, ok := index[ai.ID]; ok {
			out[i].Addrs = append(out[i].Addrs, ai.Addrs...)
			continue
		}
		index[ai.ID] = len(out)
		out = append(out, *ai)
	}
	return out, errs
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
