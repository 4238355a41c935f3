package blob

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/onvm-network/onvm/internal/id"
)

// The serving side of peer transfer: a node hands out a blob's outboard once
// and then any of its groups; the receiver checks both with VerifyOutboard
// and VerifyGroup (or an Import) against the id alone.

// Outboard returns the stored tree of the complete blob b, verified against
// the id (ErrCorrupt, and the blob marked incomplete, if it is damaged).
func (s *Store) Outboard(ctx context.Context, b id.Blob) ([]byte, error) {
	r, err := s.Open(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("outboard: %w", err)
	}
	defer r.Close()
	ob := make([]byte, OutboardSize(r.size))
	if n, err := r.f.ReadAt(ob, r.size); n != len(ob) {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("outboard %s: %w", b, err)
	}
	if err := VerifyOutboard(b, r.size, ob); err != nil {
		s.markCorrupt(b, r.f, err)
		return nil, fmt.Errorf("outboard: %w", err)
	}
	return ob, nil
}

// ReadGroup returns group index of the complete blob b, verified against the
// id. An index outside [0, Groups(size)) is an error.
func (s *Store) ReadGroup(ctx context.Context, b id.Blob, index int) ([]byte, error) {
	r, err := s.Open(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("read group %d: %w", index, err)
	}
	defer r.Close()
	if g := Groups(r.size); index < 0 || int64(index) >= g {
		return nil, fmt.Errorf("read group %d of %s: %w", index, b, ErrGroupRange)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	data, err := r.group(int64(index))
	if err != nil {
		return nil, fmt.Errorf("read group %d: %w", index, err)
	}
	return data, nil // r.buf is not reused: r is closed on return
}

// PeerReader reads the stored bytes of a complete blob for a peer WITHOUT
// checking them against the id. It exists for the blob protocol alone: the
// receiving peer verifies every group against the id before it stores it
// (Import), so a byte damaged on this disk is caught there, and the peer
// can report the group back (ReadGroup then re-reads it verified and marks
// the blob corrupt). Serving a peer this way saves one BLAKE3 pass over
// every byte sent. Never hand these bytes to a user, a program or anything
// that does not verify them: use Open or ReadGroup.
type PeerReader struct {
	id   id.Blob
	size int64
	f    *os.File
}

// OpenForPeer opens the complete blob b for PeerReader's unverified reads.
// The record and the file's length are checked as Open checks them.
func (s *Store) OpenForPeer(ctx context.Context, b id.Blob) (*PeerReader, error) {
	f, size, err := s.openFile(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("open blob %s for a peer: %w", b, err)
	}
	return &PeerReader{id: b, size: size, f: f}, nil
}

// Size returns the blob's length in bytes.
func (r *PeerReader) Size() int64 { return r.size }

// ReadAt reads len(p) stored bytes at off, unverified; reading past the
// blob's data (into its outboard) is an error. Safe for concurrent use.
func (r *PeerReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > r.size || int64(len(p)) > r.size-off {
		return 0, fmt.Errorf("read blob %s for a peer: %d bytes at %d of %d: %w", r.id, len(p), off, r.size, ErrGroupRange)
	}
	n, err := r.f.ReadAt(p, off)
	if n < len(p) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return n, fmt.Errorf("read blob %s for a peer: %w", r.id, err)
	}
	return n, nil
}

// Close releases the file. Closing twice returns the file's error.
func (r *PeerReader) Close() error { return r.f.Close() }
