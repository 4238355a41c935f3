package blob

import (
	"context"
	"fmt"
	"io"

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
