package p2p

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// A node remembers the ONVM peers it has been connected to in a small file
// of its data directory and dials them again at start (Discovery), so a
// restarted node whose bootnodes are down still reaches its former peers,
// and through them the DHT and the rest of the network.

// maxRemembered bounds the peer file: the most recently seen peers stay.
const maxRemembered = 64

// rememberedPeer is one entry of the peer file.
type rememberedPeer struct {
	ID    peer.ID   `json:"peer_id"`
	Addrs []string  `json:"addrs"` // its listen addresses, as identify gave them
	Seen  time.Time `json:"seen"`  // when it last completed identify with this node
}

// peerFile is the remembered peers and the file that holds them. The zero
// path remembers nothing.
type peerFile struct {
	path string

	mu    sync.Mutex
	peers map[peer.ID]rememberedPeer
	dirty bool
}

// openPeerFile reads the peer file at path; a missing file is an empty
// one. An unreadable one is an error alongside an empty, usable book: the
// caller logs it, and the next save replaces the file.
func openPeerFile(path string) (*peerFile, error) {
	f := &peerFile{path: path, peers: make(map[peer.ID]rememberedPeer)}
	if path == "" {
		return f, nil
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("read peer file: %w", err)
	}
	var entries []rememberedPeer
	if err := json.Unmarshal(raw, &entries); err != nil {
		return f, fmt.Errorf("read peer file %s: %w", path, err)
	}
	for _, e := range entries {
		if e.ID.Validate() == nil && len(e.Addrs) > 0 {
			f.peers[e.ID] = e
		}
	}
	f.trim()
	return f, nil
}

// note remembers that p, listening on addrs, was seen at now.
func (f *peerFile) note(p peer.ID, addrs []multiaddr.Multiaddr, now time.Time) {
	if len(addrs) == 0 {
		return
	}
	e := rememberedPeer{ID: p, Seen: now}
	for _, a := range addrs {
		e.Addrs = append(e.Addrs, a.String())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.peers[p] = e
	f.dirty = true
	f.trim()
}

// trim drops the least recently seen peers beyond maxRemembered.
func (f *peerFile) trim() {
	if len(f.peers) <= maxRemembered {
		return
	}
	for _, e := range f.sorted()[maxRemembered:] {
		delete(f.peers, e.ID)
	}
}

// sorted returns the entries, most recently seen first.
func (f *peerFile) sorted() []rememberedPeer {
	out := make([]rememberedPeer, 0, len(f.peers))
	for _, e := range f.peers {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b rememberedPeer) int {
		if c := b.Seen.Compare(a.Seen); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// list returns the remembered peers, most recently seen first; addresses
// that do not parse are skipped.
func (f *peerFile) list() []peer.AddrInfo {
	f.mu.Lock()
	entries := f.sorted()
	f.mu.Unlock()
	var out []peer.AddrInfo
	for _, e := range entries {
		ai := peer.AddrInfo{ID: e.ID}
		for _, s := range e.Addrs {
			if a, err := multiaddr.NewMultiaddr(s); err == nil {
				ai.Addrs = append(ai.Addrs, a)
			}
		}
		if len(ai.Addrs) > 0 {
			out = append(out, ai)
		}
	}
	return out
}

// save writes the book if it changed since the last save: to a temporary
// file, synced, then renamed over the old one, so a crash leaves the old
// file or the new one, never a torn one.
func (f *peerFile) save() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.path == "" || !f.dirty {
		return nil
	}
	raw, err := json.MarshalIndent(f.sorted(), "", "  ")
	if err != nil {
		return fmt.Errorf("save peer file: %w", err)
	}
	tmp := f.path + ".tmp"
	if err := writeSynced(tmp, append(raw, '\n')); err != nil {
		return fmt.Errorf("save peer file: %w", err)
	}
	if err := os.Rename(tmp, f.path); err != nil {
		return fmt.Errorf("save peer file: %w", err)
	}
	f.dirty = false
	return nil
}

func writeSynced(path string, b []byte) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = fh.Write(b)
	if err == nil {
		err = fh.Sync()
	}
	return errors.Join(err, fh.Close())
}
