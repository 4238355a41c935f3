package replica

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
)

// blobMeta is what blob_published operations said about a blob.
type blobMeta struct {
	Size       int64     `cbor:"1,keyasint"`
	Mime       string    `cbor:"2,keyasint"`
	Publishers []id.Node `cbor:"3,keyasint"` // sorted, distinct
}

// blobMetaOf returns the published metadata of b.
func (r *Replica) blobMetaOf(b id.Blob) (*blobMeta, bool, error) {
	v, ok, err := get(r.db, key(pfxBlob, b[:]))
	if err != nil || !ok {
		return nil, false, err
	}
	var m blobMeta
	if err := codec.Unmarshal(v, &m); err != nil {
		return nil, false, fmt.Errorf("blob %s metadata: %w", b, err)
	}
	return &m, true, nil
}

// blobHandler applies blob_published: metadata, a provider hint and, in
// full sync mode, a background fetch. Nothing in it can fail a vertex.
type blobHandler struct{ r *Replica }

func (h blobHandler) Apply(_ context.Context, o dag.Op, _ *dag.Vertex) error {
	r := h.r
	bp, err := op.DecodeBlobPublished(o)
	if err != nil {
		return fmt.Errorf("%w: %w", dag.ErrInvalidOp, err) // validated before acceptance: cannot happen
	}
	m, _, err := r.blobMetaOf(bp.Blob)
	if err != nil {
		return err
	}
	if m == nil {
		m = &blobMeta{}
	}
	// The size and type of the lowest publisher stand, the least of its
	// announcements if it made several: whatever order announcements
	// arrive in, every node reports the same ones (two clients may upload
	// the same bytes with different types). The size is checked against
	// the id when the bytes arrive; the type is a hint.
	i, found := slices.BinarySearchFunc(m.Publishers, bp.Publisher, cmpNode)
	lowest := i == 0 && (!found || bp.Size < m.Size || bp.Size == m.Size && bp.Mime < m.Mime)
	if lowest || !found {
		if lowest {
			m.Size, m.Mime = bp.Size, bp.Mime
		}
		if !found {
			m.Publishers = slices.Insert(m.Publishers, i, bp.Publisher)
		}
		if err := r.db.Set(key(pfxBlob, bp.Blob[:]), codec.MustMarshal(m), pebble.NoSync); err != nil {
			return fmt.Errorf("store blob %s metadata: %w", bp.Blob, err)
		}
	}
	if bp.Publisher == r.self {
		r.provide(id.Hash(bp.Blob), false)
		return nil
	}
	r.fetches.forget(bp.Blob)
	if r.net != nil {
		r.net.Providers().AddNode(id.Hash(bp.Blob), bp.Publisher)
	}
	if r.opts.SyncMode == SyncFull {
		r.fetches.background(bp.Blob)
	}
	return nil
}

func cmpNode(a, b id.Node) int {
	for i := range a {
		if a[i] != b[i] {
			return int(a[i]) - int(b[i])
		}
	}
	return 0
}

// Blobs is the node's blob store as the API and the job service see it:
// an upload is published to the network, and a blob this node lacks is
// fetched from its providers before it is read.
type Blobs struct{ r *Replica }

// Blobs returns the replicating view of the blob store.
func (r *Replica) Blobs() *Blobs { return &Blobs{r} }

// Put stores the bytes. The blob store stages the blob's announcement
// (blob_published) in the batch that makes it complete
// (blob.Options.OnComplete), so a blob stored is a blob the network will
// hear of, and the DHT provider record follows when this node's vertex
// carrying it is applied.
func (b *Blobs) Put(ctx context.Context, rd io.Reader, mime string) (blob.Info, bool, error) {
	return b.r.blobs.Put(ctx, rd, mime)
}

// Stat describes blob b: the local record, else what blob_published said
// of it (Complete false). It never fetches.
func (b *Blobs) Stat(ctx context.Context, x id.Blob) (blob.Info, error) {
	info, err := b.r.blobs.Stat(ctx, x)
	if err == nil || !errors.Is(err, blob.ErrNotFound) {
		return info, err
	}
	m, ok, merr := b.r.blobMetaOf(x)
	if merr != nil || !ok {
		return info, err
	}
	return blob.Info{ID: x, Size: m.Size, MIME: m.Mime, Groups: int(blob.Groups(m.Size))}, nil
}

// Open returns a reader of blob b, fetching it from providers first when it
// is not complete here (see fetcher.onDemand for the bounds).
func (b *Blobs) Open(ctx context.Context, x id.Blob) (*blob.Reader, error) {
	rd, err := b.r.blobs.Open(ctx, x)
	if err == nil || (!errors.Is(err, blob.ErrNotFound) && !errors.Is(err, blob.ErrIncomplete)) {
		return rd, err
	}
	if ferr := b.r.fetches.onDemand(ctx, x); ferr != nil {
		return nil, ferr
	}
	return b.r.blobs.Open(ctx, x)
}

// Usage reports the local store's usage.
func (b *Blobs) Usage() (int, int64) { return b.r.blobs.Usage() }

// sweepBlobs queues every published blob not complete here (full mode).
func (r *Replica) sweepBlobs() error {
	return scan(r.db, []byte(pfxBlob), func(k, _ []byte) (bool, error) {
		x := id.Blob(k[len(pfxBlob):])
		if info, err := r.blobs.Stat(r.ctx, x); err == nil && info.Complete {
			return true, nil
		}
		r.fetches.background(x)
		return r.ctx.Err() == nil, nil
	})
}
