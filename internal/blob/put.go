package blob

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/onvm-network/onvm/internal/id"
)

// Put streams r into the store and returns the blob's metadata. existed
// reports that the same bytes were already stored; the stored record (and
// its MIME type) is then returned unchanged.
//
// The bytes go to a temporary file in the store directory while each group
// is hashed; the outboard is appended; then the file is synced, renamed to
// its id and the directory synced; the metadata record, written with
// pebble.Sync, is the commit point. Any failure before that (ctx cancelled,
// r failing, MaxSize exceeded, disk full) removes the temporary file and
// leaves nothing visible. Memory is 1.5 MiB of buffers plus 32 bytes per
// group.
func (s *Store) Put(ctx context.Context, r io.Reader, mime string) (info Info, existed bool, err error) {
	if err := s.checkOpen(); err != nil {
		return Info{}, false, fmt.Errorf("put blob: %w", err)
	}
	f, err := os.CreateTemp(s.dir, tmpPrefix+"put-*")
	if err != nil {
		return Info{}, false, fmt.Errorf("put blob: %w", noSpace(err))
	}
	tmp := f.Name()
	defer func() {
		if f != nil {
			_ = f.Close()
		}
		if tmp != "" {
			_ = os.Remove(tmp)
		}
	}()

	size, leaves, err := s.stream(ctx, r, f)
	if err != nil {
		return Info{}, false, fmt.Errorf("put blob: %w", err)
	}
	ob, root := buildOutboard(size, leaves)
	b := id.Blob(cvHash(root))

	defer s.lock(b)()
	old, found, err := s.getRecord(b)
	if err != nil {
		return Info{}, false, fmt.Errorf("put blob %s: %w", b, err)
	}
	final := s.finalPath(b)
	if found && old.Complete {
		if fileHasSize(final, size+int64(len(ob))) {
			return old.info(b), true, nil
		}
		s.counted(old, -1) // the file went missing: store it again
		old.Complete = false
	}
	if err := ctx.Err(); err != nil {
		return Info{}, false, fmt.Errorf("put blob %s: %w", b, err)
	}
	if _, err := f.Write(ob); err != nil {
		return Info{}, false, fmt.Errorf("put blob %s: write tree: %w", b, noSpace(err))
	}
	if err := f.Sync(); err != nil {
		return Info{}, false, fmt.Errorf("put blob %s: sync: %w", b, noSpace(err))
	}
	err = f.Close()
	f = nil
	if err != nil {
		return Info{}, false, fmt.Errorf("put blob %s: close: %w", b, noSpace(err))
	}
	if err := os.Rename(tmp, final); err != nil {
		return Info{}, false, fmt.Errorf("put blob %s: %w", b, err)
	}
	tmp = final // from here on a failure removes the installed file
	if err := syncDir(s.dir); err != nil {
		return Info{}, false, fmt.Errorf("put blob %s: sync dir: %w", b, noSpace(err))
	}
	rec := record{Size: size, MIME: mime, Groups: Groups(size), Created: time.Now().UnixNano(), Complete: true}
	if found {
		rec.Created = old.Created
		if mime == "" {
			rec.MIME = old.MIME
		}
	}
	if err := s.putRecord(b, rec); err != nil {
		return Info{}, false, fmt.Errorf("put blob %s: %w", b, err)
	}
	tmp = ""
	s.counted(rec, 1)
	if found {
		// A partial import or a set-aside copy is superseded.
		if err := removeIfExists(s.partPath(b)); err != nil {
			s.log.Warn("remove superseded partial blob", "blob", b, "err", err)
		}
	}
	return rec.info(b), false, nil
}

// stream copies r to w and returns the size and the chaining value of every
// group. Reading and hashing run here, writing in a second goroutine, with
// streamBuffers batches of streamBatch bytes between them: big enough that
// the handoffs cost nothing next to the copying, small enough that memory
// stays flat. No read-ahead is needed to know whether the first group is
// also the root (the whole blob): a batch holds several groups, so a blob of
// one group is always seen whole, with its end, in the first batch.
func (s *Store) stream(ctx context.Context, r io.Reader, w *os.File) (int64, []cv, error) {
	free := make(chan []byte, streamBuffers)
	for range streamBuffers {
		free <- make([]byte, streamBatch)
	}
	full := make(chan []byte, streamBuffers)
	var (
		werr   error // set by the writer before done closes
		failed atomic.Bool
		done   = make(chan struct{})
	)
	go func() {
		defer close(done)
		for buf := range full {
			if !failed.Load() {
				if _, err := w.Write(buf); err != nil {
					werr = fmt.Errorf("write: %w", noSpace(err))
					failed.Store(true)
				}
			}
			free <- buf[:cap(buf)]
		}
	}()
	finish := func(err error) error {
		close(full)
		<-done
		if werr != nil {
			return werr
		}
		return err
	}

	var (
		size   int64
		index  int64
		leaves []cv
		h      hasher
	)
	for {
		if err := ctx.Err(); err != nil {
			return 0, nil, finish(err)
		}
		buf := <-free
		n, eof, err := fill(ctx, r, buf)
		if err != nil {
			return 0, nil, finish(err)
		}
		size += int64(n)
		if size > s.max {
			return 0, nil, finish(fmt.Errorf("more than %d bytes: %w", s.max, ErrTooLarge))
		}
		full <- buf[:n]
		for off := 0; off < n; off += GroupSize {
			g := buf[off:min(off+GroupSize, n)]
			leaves = append(leaves, h.groupCV(g, index, eof && size <= GroupSize))
			index++
		}
		if eof {
			if size == 0 {
				leaves = append(leaves, h.groupCV(nil, 0, true))
			}
			if err := finish(nil); err != nil {
				return 0, nil, err
			}
			return size, leaves, nil
		}
		if failed.Load() {
			return 0, nil, finish(nil)
		}
	}
}

// Put's streaming buffers: 3 × 512 KiB per Put in progress.
const (
	streamBatch   = 8 * GroupSize
	streamBuffers = 3
)

// fill reads buf full unless r ends first; eof reports the end.
// A read error after ctx is done (a request body torn down by the
// cancellation) is reported as the cancellation.
func fill(ctx context.Context, r io.Reader, buf []byte) (n int, eof bool, err error) {
	n, err = io.ReadFull(r, buf)
	switch {
	case err == nil:
		return n, false, nil
	case err == io.EOF, err == io.ErrUnexpectedEOF: //nolint:errorlint // ReadFull returns these values unwrapped
		return n, true, nil
	case ctx.Err() != nil:
		return 0, false, fmt.Errorf("read: %w (%w)", ctx.Err(), err)
	default:
		return 0, false, fmt.Errorf("read: %w", err)
	}
}

// fileHasSize reports whether name exists with the given length.
func fileHasSize(name string, size int64) bool {
	fi, err := os.Stat(name)
	return err == nil && fi.Mode().IsRegular() && fi.Size() == size
}
