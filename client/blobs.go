package client

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/zeebo/blake3"

	"github.com/onvm-network/onvm/internal/id"
)

// ErrMismatch means the bytes received do not hash to the requested id.
var ErrMismatch = errors.New("client: blob content does not match its id")

// UploadBlob streams r to the node as a blob of the given MIME type. size is
// the number of bytes r yields, or -1 if unknown (chunked upload).
func (c *Client) UploadBlob(ctx context.Context, r io.Reader, size int64, mime string) (BlobRef, error) {
	if r == nil {
		r = http.NoBody
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/blobs", io.NopCloser(r))
	if err != nil {
		return BlobRef{}, err
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	if mime != "" {
		req.Header.Set("X-Mime", mime)
		req.Header.Set("Content-Type", mime)
	} else {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	resp, err := c.do(req)
	if err != nil {
		return BlobRef{}, err
	}
	defer resp.Body.Close()
	var ref BlobRef
	if err := json.NewDecoder(resp.Body).Decode(&ref); err != nil {
		return BlobRef{}, fmt.Errorf("upload blob: decode response: %w", err)
	}
	ref.Created = resp.StatusCode == http.StatusCreated
	return ref, nil
}

// BlobInfo returns a blob's metadata.
func (c *Client) BlobInfo(ctx context.Context, blobID string) (BlobInfo, error) {
	b, err := id.ParseBlob(blobID)
	if err != nil {
		return BlobInfo{}, err
	}
	var info BlobInfo
	err = c.getJSON(ctx, "/blobs/"+url.PathEscape(b.String())+"/info", &info)
	return info, err
}

// BlobReader streams a blob's bytes and verifies them: the Read that reaches
// the end returns ErrMismatch instead of io.EOF when the content does not
// hash to the id.
type BlobReader struct {
	body io.ReadCloser
	want id.Blob
	h    *blake3.Hasher
	size int64
	n    int64
	mime string
	err  error
}

// Size returns the blob's size as announced by the node.
func (r *BlobReader) Size() int64 { return r.size }

// MIME returns the blob's content type.
func (r *BlobReader) MIME() string { return r.mime }

func (r *BlobReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.body.Read(p)
	_, _ = r.h.Write(p[:n]) // never fails
	r.n += int64(n)
	if errors.Is(err, io.EOF) {
		var got [32]byte
		r.h.Sum(got[:0])
		if r.n != r.size || subtle.ConstantTimeCompare(got[:], r.want[:]) != 1 {
			err = fmt.Errorf("%w: %s (received %d bytes)", ErrMismatch, r.want, r.n)
		}
	} else if err != nil {
		err = fmt.Errorf("read blob %s: %w", r.want, err)
	}
	r.err = err
	return n, err
}

// WriteTo copies the rest of the blob to w in large chunks (hashing is
// faster on them than on io.Copy's), verifying it like Read.
func (r *BlobReader) WriteTo(w io.Writer) (int64, error) {
	buf := make([]byte, 256<<10)
	var n int64
	for {
		m, rerr := io.ReadFull(r, buf)
		if m > 0 {
			k, werr := w.Write(buf[:m])
			n += int64(k)
			if werr != nil {
				return n, werr
			}
		}
		switch {
		case rerr == io.EOF || rerr == io.ErrUnexpectedEOF:
			return n, nil
		case rerr != nil:
			return n, rerr
		}
	}
}

// Close releases the connection.
func (r *BlobReader) Close() error { return r.body.Close() }

// OpenBlob starts downloading a blob. Read it to the end to verify it.
func (c *Client) OpenBlob(ctx context.Context, blobID string) (*BlobReader, error) {
	b, err := id.ParseBlob(blobID)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/blobs/"+b.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || resp.ContentLength < 0 {
		resp.Body.Close()
		return nil, fmt.Errorf("get blob %s: unexpected status %d or unknown length", b, resp.StatusCode)
	}
	return &BlobReader{
		body: resp.Body, want: b, h: blake3.New(), size: resp.ContentLength,
		mime: resp.Header.Get("Content-Type"),
	}, nil
}

// GetBlob copies a blob to w and verifies it; on ErrMismatch w has received
// bad bytes, so write to a temporary place and keep it only on success.
func (c *Client) GetBlob(ctx context.Context, blobID string, w io.Writer) (int64, error) {
	r, err := c.OpenBlob(ctx, blobID)
	if err != nil {
		return 0, err
	}
	defer func() { _ = r.Close() }()
	return io.Copy(w, r)
}
