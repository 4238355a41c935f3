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
// leaves nothing visible. Memory is two groups plus 32 bytes per group.
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

// stream copies r to w group by group, hashing each group, and returns the
// size and the groups' chaining values. It reads one group ahead, because
// the first group is hashed as the root when it is also the last. Writing
// runs in a second goroutine, overlapping the hashing; at most
// streamDepth groups are in flight.
func (s *Store) stream(ctx context.Context, r io.Reader, w io.Writer) (int64, []cv, error) {
	free := make(chan []byte, streamDepth+2)
	for range streamDepth + 2 {
		free <- make([]byte, GroupSize)
	}
	full := make(chan []byte, streamDepth)
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
	finish := func() error {
		close(full)
		<-done
		return werr
	}

	cur := <-free
	n, eof, err := fill(ctx, r, cur)
	var (
		size   int64
		leaves []cv
		h      hasher
	)
	for index := int64(0); err == nil; index++ {
		if err = ctx.Err(); err != nil {
			break
		}
		size += int64(n)
		if size > s.max {
			err = fmt.Errorf("more than %d bytes: %w", s.max, ErrTooLarge)
			break
		}
		last := eof
		var next []byte
		var m int
		if !last {
			next = <-free
			if m, eof, err = fill(ctx, r, next); err != nil {
				break
			}
			last = m == 0 && eof
		}
		full <- cur[:n]
		leaves = append(leaves, h.groupCV(cur[:n], index, last && index == 0))
		if last {
			if err := finish(); err != nil {
				return 0, nil, err
			}
			return size, leaves, nil
		}
		if failed.Load() {
			break
		}
		cur, n = next, m
	}
	if werr := finish(); werr != nil {
		return 0, nil, werr
	}
	return 0, nil, err
}

// streamDepth is the number of groups Put lets the writer fall behind.
const streamDepth = 4

// fill reads a whole group into buf unless r ends first; eof reports the end.
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
