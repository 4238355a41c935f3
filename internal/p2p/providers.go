package p2p

import (
	"slices"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multihash"

	"github.com/onvm-network/onvm/internal/id"
)

// CIDOf returns the DHT key of a blob or program id: a CIDv1 with the raw
// codec whose multihash is the id itself as BLAKE3-256 (code 0x1e). A blob
// id is the BLAKE3 of its bytes, so the CID is the blob's true content
// address; a program id is BLAKE3(code ‖ salt), used as a name.
func CIDOf(h id.Hash) cid.Cid {
	mh, err := multihash.Encode(h[:], multihash.BLAKE3)
	if err != nil {
		panic(err) // 32 bytes with a registered code: cannot fail
	}
	return cid.NewCidV1(cid.Raw, mh)
}

// Limits of the provider book.
const (
	maxProviderKeys   = 65536
	maxProvidersPerID = 16
)

// ProviderBook remembers which peers said they provide which blobs and
// programs (gossip announcements, BlobPublished operations, DHT answers):
// a bounded LRU of ids, each with its most recent providers. Entries are
// hints; fetchers verify everything.
type ProviderBook struct {
	mu    sync.Mutex
	cache *lru.Cache[id.Hash, []peer.ID]
}

// NewProviderBook returns an empty book.
func NewProviderBook() *ProviderBook {
	c, err := lru.New[id.Hash, []peer.ID](maxProviderKeys)
	if err != nil {
		panic(err) // positive size: cannot fail
	}
	return &ProviderBook{cache: c}
}

// Add records p as a provider of h, most recent first.
func (b *ProviderBook) Add(h id.Hash, p peer.ID) {
	if p == "" {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	ps, _ := b.cache.Get(h)
	ps = slices.DeleteFunc(slices.Clone(ps), func(q peer.ID) bool { return q == p })
	ps = append([]peer.ID{p}, ps...)
	if len(ps) > maxProvidersPerID {
		ps = ps[:maxProvidersPerID]
	}
	b.cache.Add(h, ps)
}

// AddNode records node n as a provider of h (for BlobPublished operations,
// whose publisher is a node id).
func (b *ProviderBook) AddNode(h id.Hash, n id.Node) {
	if p, err := PeerOf(n); err == nil {
		b.Add(h, p)
	}
}

// Remove forgets p as a provider of h.
func (b *ProviderBook) Remove(h id.Hash, p peer.ID) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ps, ok := b.cache.Get(h)
	if !ok {
		return
	}
	b.cache.Add(h, slices.DeleteFunc(slices.Clone(ps), func(q peer.ID) bool { return q == p }))
}

// Get returns the known providers of h, most recent first.
func (b *ProviderBook) Get(h id.Hash) []peer.ID {
	b.mu.Lock()
	defer b.mu.Unlock()
	ps, _ := b.cache.Get(h)
	return slices.Clone(ps)
}
