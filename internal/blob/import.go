package blob

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/onvm-network/onvm/internal/id"
)

// Import stores a blob received from untrusted peers, group by group in any
// order. The outboard is verified against the id when the import begins;
// each group is verified against it before it is written. The bytes go to a
// partial file (<id>.part) and the record says incomplete until Commit, so
// nothing is visible before every group is present and verified.
//
// An import that is aborted, or cut short by a crash, is resumed by the next
// BeginImport for the same id: it re-verifies whatever the partial file holds
// and asks only for the rest. WriteGroup may be called from several
// goroutines at once.
type Import struct {
	s      *Store
	id     id.Blob
	size   int64
	groups int64
	leaves []cv     // verified chaining value of every group
	f      *os.File // nil when the blob was already complete

	io sync.RWMutex // WriteGroup holds it shared; Commit and Abort exclusively

	mu      sync.Mutex
	done    bool // committed or aborted
	have    []uint64
	missing int64
	info    Info // the result, once committed
}

var hashers = sync.Pool{New: func() any { return new(hasher) }}

// BeginImport starts (or resumes) importing b of the given size and MIME
// type, whose tree is outboard. The outboard is verified first (ErrCorrupt).
// It fails with ErrTooLarge beyond MaxSize and with ErrBusy while another
// import of b is in progress. If b is already complete the import has
// nothing missing and Commit returns the stored Info.
func (s *Store) BeginImport(ctx context.Context, b id.Blob, size int64, mime string, outboard []byte) (*Import, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("begin import %s: %w", b, err)
	}
	if size > s.max {
		return nil, fmt.Errorf("begin import %s: %d bytes, limit %d: %w", b, size, s.max, ErrTooLarge)
	}
	leaves, err := verifyTree(b, size, outboard, true)
	if err != nil {
		return nil, fmt.Errorf("begin import: %w", err)
	}
	imp := &Import{s: s, id: b, size: size, groups: Groups(size), leaves: leaves}

	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return nil, fmt.Errorf("begin import %s: %w", b, ErrClosed)
	case s.imports[b] != nil:
		s.mu.Unlock()
		return nil, fmt.Errorf("begin import %s: %w", b, ErrBusy)
	}
	s.imports[b] = imp
	s.mu.Unlock()

	resume, err := imp.open(mime, outboard)
	if err != nil {
		imp.release()
		return nil, fmt.Errorf("begin import %s: %w", b, err)
	}
	imp.have = make([]uint64, (imp.groups+63)/64)
	imp.missing = imp.groups
	if imp.f == nil {
		imp.missing = 0
		return imp, nil
	}
	if resume {
		if err := imp.scan(ctx); err != nil {
			_ = imp.f.Close()
			imp.release()
			return nil, fmt.Errorf("begin import %s: resume: %w", b, err)
		}
	}
	return imp, nil
}

// open writes the incomplete record and opens the partial file with the
// outboard in place. resume reports that a partial file already existed.
func (imp *Import) open(mime string, outboard []byte) (resume bool, err error) {
	s, b := imp.s, imp.id
	defer s.lock(b)()
	old, found, err := s.getRecord(b)
	if err != nil {
		return false, err
	}
	if found && old.Complete && fileHasSize(s.finalPath(b), old.Size+OutboardSize(old.Size)) {
		imp.info = old.info(b)
		return false, nil
	}
	part := s.partPath(b)
	if found && old.Size != imp.size {
		// An earlier claim of another size (its outboard can verify, its
		// data never will): start over.
		if err := removeIfExists(part); err != nil {
			return false, err
		}
	}
	rec := record{Size: imp.size, MIME: mime, Groups: imp.groups, Created: time.Now().UnixNano()}
	if found {
		rec.Created = old.Created
		if mime == "" {
			rec.MIME = old.MIME
		}
		s.counted(old, -1) // a complete record whose file is gone
	}
	// The record first: a partial file without one is an orphan.
	if err := s.putRecord(b, rec); err != nil {
		return false, err
	}
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return false, noSpace(err)
	}
	fi, err := f.Stat()
	if err == nil {
		resume = fi.Size() > 0
		err = f.Truncate(imp.size + int64(len(outboard)))
	}
	if err == nil {
		_, err = f.WriteAt(outboard, imp.size)
	}
	if err != nil {
		_ = f.Close()
		return false, noSpace(err)
	}
	imp.f = f
	return resume, nil
}

// seekData is lseek's SEEK_DATA on Linux; elsewhere the call fails and every
// group is read.
const seekData = 3

// scan marks the groups the partial file already holds correctly.
func (imp *Import) scan(ctx context.Context) error {
	h := hashers.Get().(*hasher)
	defer hashers.Put(h)
	buf := make([]byte, GroupSize)
	for i := range imp.groups {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := groupLen(imp.size, i)
		if n > 0 {
			if next, err := imp.f.Seek(i*GroupSize, seekData); err == nil && next >= i*GroupSize+int64(n) {
				continue // a hole: never written
			}
			if m, err := imp.f.ReadAt(buf[:n], i*GroupSize); m != n {
				return fmt.Errorf("read group %d: %w", i, err)
			}
		}
		if h.groupCV(buf[:n], i, imp.groups == 1) == imp.leaves[i] {
			imp.set(i)
		}
	}
	return nil
}

func (imp *Import) set(i int64) {
	if imp.have[i/64]&(1<<(i%64)) == 0 {
		imp.have[i/64] |= 1 << (i % 64)
		imp.missing--
	}
}

func (imp *Import) has(i int64) bool { return imp.have[i/64]&(1<<(i%64)) != 0 }

// release unregisters the import from the store.
func (imp *Import) release() {
	imp.s.mu.Lock()
	if imp.s.imports[imp.id] == imp {
		delete(imp.s.imports, imp.id)
	}
	imp.s.mu.Unlock()
}

// ID returns the id of the blob being imported.
func (imp *Import) ID() id.Blob { return imp.id }

// WriteGroup verifies data as group index and, if it is correct, writes it.
// Wrong data (or a wrong length or index) yields ErrCorrupt and writes
// nothing. Writing a group already present is a no-op.
func (imp *Import) WriteGroup(index int, data []byte) error {
	i := int64(index)
	if i >= 0 && i < imp.groups {
		if want := groupLen(imp.size, i); len(data) != want {
			return fmt.Errorf("import %s: group %d has %d bytes, want %d: %w", imp.id, index, len(data), want, ErrCorrupt)
		}
	}
	return imp.WriteGroups(index, data)
}

// WriteGroups verifies and writes data as the consecutive groups from first
// (every group whole; the data must end at a group boundary or at the end of
// the blob). Each group is written right after it is hashed, while it is
// still in the CPU cache: one write per run copied it from memory again and
// doubled the cost of the writes (docs/rationale/blob.md). A wrong length
// or index yields ErrCorrupt and writes nothing; a group that does not
// verify yields ErrCorrupt naming it, and the groups before it stay
// written. Groups already present are skipped.
func (imp *Import) WriteGroups(first int, data []byte) error {
	i0 := int64(first)
	if i0 < 0 || i0 >= imp.groups {
		return fmt.Errorf("import %s: group %d out of range [0, %d): %w", imp.id, first, imp.groups, ErrCorrupt)
	}
	off := i0 * GroupSize
	if rest := imp.size - off; int64(len(data)) > rest || len(data) == 0 && rest > 0 ||
		int64(len(data)) < rest && len(data)%GroupSize != 0 {
		return fmt.Errorf("import %s: %d bytes from group %d of a %d-byte blob: %w", imp.id, len(data), first, imp.size, ErrCorrupt)
	}
	imp.io.RLock()
	defer imp.io.RUnlock()
	h := hashers.Get().(*hasher)
	defer hashers.Put(h)
	n := Groups(int64(len(data))) // whole groups, the last one maybe the blob's short one
	for k := range n {
		i := i0 + k
		g := data[k*GroupSize : k*GroupSize+int64(groupLen(int64(len(data)), k))]
		if h.groupCV(g, i, imp.groups == 1) != imp.leaves[i] {
			return fmt.Errorf("import %s: group %d: %w", imp.id, i, ErrCorrupt)
		}
		imp.mu.Lock()
		done, have := imp.done, imp.has(i)
		imp.mu.Unlock()
		switch {
		case done:
			return fmt.Errorf("import %s: %w", imp.id, ErrClosed)
		case have || imp.f == nil: // present, or the blob was complete already
			continue
		}
		if _, err := imp.f.WriteAt(g, i*GroupSize); err != nil {
			return fmt.Errorf("import %s: write group %d: %w", imp.id, i, noSpace(err))
		}
		imp.mu.Lock()
		imp.set(i)
		imp.mu.Unlock()
	}
	return nil
}

// Missing returns the indexes of the groups not yet written, in order.
func (imp *Import) Missing() []int {
	imp.mu.Lock()
	defer imp.mu.Unlock()
	out := make([]int, 0, imp.missing)
	if imp.missing == 0 {
		return out
	}
	for i := range imp.groups {
		if !imp.has(i) {
			out = append(out, int(i))
		}
	}
	return out
}

// Commit makes the blob visible once every group is present: the partial
// file is synced and renamed, the directory synced, and the record marked
// complete. It fails with ErrIncomplete while groups are missing (the import
// stays open). After a failure of its own the import is closed and can be
// resumed with BeginImport.
func (imp *Import) Commit(ctx context.Context) (Info, error) {
	imp.io.Lock()
	defer imp.io.Unlock()
	imp.mu.Lock()
	defer imp.mu.Unlock()
	if imp.done {
		if imp.info.Complete {
			return imp.info, nil
		}
		return Info{}, fmt.Errorf("commit import %s: %w", imp.id, ErrClosed)
	}
	if imp.missing > 0 {
		return Info{}, fmt.Errorf("commit import %s: %d of %d groups missing: %w", imp.id, imp.missing, imp.groups, ErrIncomplete)
	}
	if err := ctx.Err(); err != nil {
		return Info{}, fmt.Errorf("commit import %s: %w", imp.id, err)
	}
	imp.done = true
	defer imp.release()
	if imp.f == nil { // complete before the import began
		return imp.info, nil
	}
	err := imp.f.Sync()
	err = errors.Join(err, imp.f.Close())
	if err != nil {
		return Info{}, fmt.Errorf("commit import %s: %w", imp.id, noSpace(err))
	}
	info, err := imp.s.install(imp.id)
	if err != nil {
		return Info{}, fmt.Errorf("commit import %s: %w", imp.id, err)
	}
	imp.info = info
	return info, nil
}

// install turns b's synced partial file into its final file and marks the
// record complete.
func (s *Store) install(b id.Blob) (Info, error) {
	defer s.lock(b)()
	rec, found, err := s.getRecord(b)
	if err != nil {
		return Info{}, err
	}
	if !found {
		return Info{}, ErrNotFound
	}
	final := s.finalPath(b)
	if rec.Complete && fileHasSize(final, rec.Size+OutboardSize(rec.Size)) {
		return rec.info(b), nil // a Put of the same bytes won the race
	}
	if err := os.Rename(s.partPath(b), final); err != nil {
		return Info{}, err
	}
	if err := syncDir(s.dir); err != nil {
		return Info{}, noSpace(err)
	}
	rec.Complete = true
	if err := s.putRecord(b, rec); err != nil {
		// Back to partial, so the record and the files agree.
		_ = os.Rename(final, s.partPath(b))
		return Info{}, err
	}
	s.counted(rec, 1)
	return rec.info(b), nil
}

// Abort ends the import. The groups written so far stay in the partial file
// and the incomplete record stays, so a later BeginImport resumes; use
// Store.Delete to drop them. Abort after Commit, or twice, does nothing.
func (imp *Import) Abort() error {
	imp.io.Lock()
	defer imp.io.Unlock()
	imp.mu.Lock()
	defer imp.mu.Unlock()
	if imp.done {
		return nil
	}
	imp.done = true
	imp.release()
	if imp.f == nil {
		return nil
	}
	if err := imp.f.Close(); err != nil {
		return fmt.Errorf("abort import %s: %w", imp.id, err)
	}
	return nil
}
