package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/onvm-network/onvm/internal/id"
)

// Reader reads a stored blob. Every byte it returns belongs to a group that
// was hashed and checked against the blob id through the stored tree, so a
// damaged file yields ErrCorrupt (and the blob is marked incomplete), never
// wrong bytes. It implements io.Reader, io.Seeker and io.ReaderAt; its
// methods are safe for concurrent use (they take turns). Memory is one group.
type Reader struct {
	s    *Store
	id   id.Blob
	size int64
	f    *os.File

	mu     sync.Mutex
	closed bool
	pos    int64 // for Read and Seek
	path   *path
	h      hasher
	buf    []byte // the verified group held, or nil
	held   int64  // index of the group in buf
}

// Open returns a Reader for b: ErrNotFound if unknown, ErrIncomplete if not
// all bytes are present, ErrCorrupt if the stored file is missing or of the
// wrong length (the blob is then marked incomplete).
func (s *Store) Open(ctx context.Context, b id.Blob) (*Reader, error) {
	f, size, err := s.openFile(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", b, err)
	}
	rd := &Reader{s: s, id: b, size: size, f: f, held: -1}
	rd.path = newPath(b, size, fileNodes(f, size))
	return rd, nil
}

// openFile opens the file of the complete blob b after checking its record
// and its length, and returns it with the blob's size. Errors are not
// wrapped with the operation.
func (s *Store) openFile(ctx context.Context, b id.Blob) (*os.File, int64, error) {
	if err := s.checkOpen(); err != nil {
		return nil, 0, err
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	r, found, err := s.getRecord(b)
	switch {
	case err != nil:
		return nil, 0, err
	case !found:
		return nil, 0, ErrNotFound
	case !r.Complete:
		return nil, 0, ErrIncomplete
	}
	f, err := os.Open(s.finalPath(b))
	if errors.Is(err, os.ErrNotExist) {
		s.markCorrupt(b, nil, err)
		return nil, 0, fmt.Errorf("file missing: %w", ErrCorrupt)
	}
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, 0, err
	}
	if want := r.Size + OutboardSize(r.Size); fi.Size() != want {
		err := fmt.Errorf("file has %d bytes, want %d: %w", fi.Size(), want, ErrCorrupt)
		s.markCorrupt(b, f, err)
		_ = f.Close()
		return nil, 0, err
	}
	return f, r.Size, nil
}

// fileNodes reads outboard nodes from a blob file, where the outboard
// follows the size bytes of data.
func fileNodes(f *os.File, size int64) nodeSource {
	return func(off int64, p *[parentSize]byte) error {
		n, err := f.ReadAt(p[:], size+off)
		if n == len(p) {
			return nil
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
}

// Size returns the blob's length in bytes.
func (r *Reader) Size() int64 { return r.size }

// ID returns the blob's id.
func (r *Reader) ID() id.Blob { return r.id }

// Close releases the file. It is idempotent.
func (r *Reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	r.buf = nil
	return r.f.Close()
}

// group returns the verified bytes of group index; the slice is valid until
// the next call. The caller holds r.mu.
func (r *Reader) group(index int64) ([]byte, error) {
	if r.closed {
		return nil, fmt.Errorf("read blob %s: %w", r.id, os.ErrClosed)
	}
	if r.buf != nil && r.held == index {
		return r.buf[:groupLen(r.size, index)], nil
	}
	if r.buf == nil {
		r.buf = make([]byte, GroupSize)
	}
	r.held = -1
	n := groupLen(r.size, index)
	data := r.buf[:n]
	if m, err := r.f.ReadAt(data, index*GroupSize); m != n {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read blob %s group %d: %w", r.id, index, err)
	}
	if err := r.path.verify(&r.h, index, data); err != nil {
		if errors.Is(err, ErrCorrupt) {
			r.s.markCorrupt(r.id, r.f, err)
		}
		return nil, fmt.Errorf("read blob %s: %w", r.id, err)
	}
	r.held = index
	return data, nil
}

// readAt is ReadAt with r.mu held.
func (r *Reader) readAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read blob %s: negative offset %d", r.id, off)
	}
	n := 0
	for n < len(p) {
		if off >= r.size {
			return n, io.EOF
		}
		index := off / GroupSize
		g, err := r.group(index)
		if err != nil {
			return n, err
		}
		c := copy(p[n:], g[off-index*GroupSize:])
		n += c
		off += int64(c)
	}
	return n, nil
}

// ReadAt implements io.ReaderAt.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.readAt(p, off)
}

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(p) == 0 {
		return 0, nil
	}
	if r.pos >= r.size {
		return 0, io.EOF
	}
	// Stop at the group boundary: one verified group per call is enough
	// for io.Copy, and an error is then never paired with data.
	end := min(r.size, (r.pos/GroupSize+1)*GroupSize)
	p = p[:min(int64(len(p)), end-r.pos)]
	n, err := r.readAt(p, r.pos)
	r.pos += int64(n)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return n, err
}

// Seek implements io.Seeker. Seeking past the end is allowed; reads there
// return io.EOF.
func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = r.pos + offset
	case io.SeekEnd:
		abs = r.size + offset
	default:
		return 0, fmt.Errorf("seek blob %s: invalid whence %d", r.id, whence)
	}
	if abs < 0 {
		return 0, fmt.Errorf("seek blob %s: negative position %d", r.id, abs)
	}
	r.pos = abs
	return abs, nil
}

// WriteTo implements io.WriterTo so io.Copy moves whole verified groups
// without an extra buffer.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var total int64
	for r.pos < r.size {
		index := r.pos / GroupSize
		g, err := r.group(index)
		if err != nil {
			return total, err
		}
		rest := g[r.pos-index*GroupSize:]
		n, err := w.Write(rest)
		total += int64(n)
		r.pos += int64(n)
		if err == nil && n < len(rest) {
			err = io.ErrShortWrite
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

var (
	_ io.ReadSeekCloser = (*Reader)(nil)
	_ io.ReaderAt       = (*Reader)(nil)
	_ io.WriterTo       = (*Reader)(nil)
)
