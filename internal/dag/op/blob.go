package op

import (
	"fmt"
	"unicode/utf8"

	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/id"
)

// Limits of a BlobPublished operation.
const (
	MaxMimeSize = 255
	MaxBlobSize = 1 << 40
)

// BlobPublished says that Publisher holds blob Blob and offers it to the
// network. Metadata only: the bytes move over the blob protocol.
type BlobPublished struct {
	Blob      id.Blob `cbor:"1,keyasint" json:"blob"`
	Size      int64   `cbor:"2,keyasint" json:"size"`
	Mime      string  `cbor:"3,keyasint" json:"mime"`
	Publisher id.Node `cbor:"4,keyasint" json:"publisher"`
}

// Op returns the operation.
func (b BlobPublished) Op() (dag.Op, error) { return encode(KindBlobPublished, &b) }

// DecodeBlobPublished strictly decodes op's body.
func DecodeBlobPublished(op dag.Op) (*BlobPublished, error) {
	var b BlobPublished
	if err := decode(op, KindBlobPublished, &b); err != nil {
		return nil, fmt.Errorf("decode blob_published: %w", err)
	}
	if err := b.check(); err != nil {
		return nil, fmt.Errorf("decode blob_published %s: %w", b.Blob, err)
	}
	return &b, nil
}

func (b *BlobPublished) check() error {
	switch {
	case id.Hash(b.Blob).IsZero():
		return fmt.Errorf("%w: zero blob id", ErrInvalid)
	case b.Size < 0 || b.Size > MaxBlobSize:
		return fmt.Errorf("%w: size %d", ErrInvalid, b.Size)
	case len(b.Mime) > MaxMimeSize || !utf8.ValidString(b.Mime):
		return fmt.Errorf("%w: mime type", ErrInvalid)
	}
	return nil
}

// validateBlobPublished: the publisher is the vertex's author, so nobody
// announces blobs on another node's behalf.
func validateBlobPublished(op dag.Op, v *dag.Vertex) error {
	b, err := DecodeBlobPublished(op)
	if err != nil {
		return err
	}
	if b.Publisher != v.Author {
		return fmt.Errorf("%w: blob %s published by %s in a vertex of %s", ErrInvalid, b.Blob, b.Publisher, v.Author)
	}
	return nil
}
