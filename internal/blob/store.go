// Package blob is ONVM's content-addressed blob store: blobs named by the
// standard BLAKE3-256 hash of their bytes, stored once per distinct content,
// written crash-safely and read back verified.
//
// Each blob lives in one file under Options.Dir, named by the hex of its id:
// the bytes, followed by the blob's BLAKE3 tree cut at GroupSize-byte chunk
// groups (a Bao outboard, see tree.go). Metadata lives in the shared pebble
// database under "b/". Every byte a Reader, ReadGroup or Outboard returns has
// been checked against the id, so a damaged disk yields ErrCorrupt, never bad
// bytes. The pure functions VerifyOutboard and VerifyGroup check data from an
// untrusted peer against an id alone; Import stores such data group by group,
// verifying each group before it is written.
//
// The package must not trust its own files, must not buffer a blob in memory
// (a Put holds 1.5 MiB of buffers, a Reader one group; Put and imports add
// 32 bytes per group of chaining values, 0.05% of the size), must not make a
// blob visible before all of it is durable, and does no networking.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/id"
)

// DefaultMaxSize is the largest blob accepted when Options.MaxSize is 0.
const DefaultMaxSize int64 = 64 << 30

// Options configures a Store.
type Options struct {
	// Dir is the directory for blob files, e.g. <data-dir>/blobs. It is
	// created if absent and must hold nothing but this store's files.
	Dir string
	// DB is the shared node database; the store owns the keys under "b/".
	// The store does not close it.
	DB *pebble.DB
	// MaxSize is the largest blob accepted; 0 means DefaultMaxSize.
	MaxSize int64
	// OnComplete, when set, adds to the batch that writes the record
	// making a blob complete here (a Put, or a committed import): the
	// replica stages the blob's announcement there, so that the store holds
	// a complete blob exactly when the network will hear of it. An error
	// fails the Put or the import, and nothing is written.
	OnComplete func(b *pebble.Batch, info Info) error
	// Logger receives recovery and corruption reports; nil discards them.
	Logger *slog.Logger
}

// Info describes a stored blob.
type Info struct {
	ID        id.Blob
	Size      int64
	MIME      string
	Groups    int       // number of chunk groups
	Complete  bool      // all bytes present locally
	CreatedAt time.Time // when the record was first written
}

// Store is a blob store. Its methods are safe for concurrent use.
type Store struct {
	dir string
	db  *pebble.DB
	max int64
	log *slog.Logger

	onComplete func(*pebble.Batch, Info) error

	locks [256]sync.Mutex // per-id commit locks, striped by the id's first byte

	mu      sync.Mutex
	closed  bool
	imports map[id.Blob]*Import // imports in progress

	blobs atomic.Int64 // complete blobs
	bytes atomic.Int64 // their total size
}

// File names under Dir.
const (
	tmpPrefix  = ".tmp-"
	partSuffix = ".part"
)

// Open opens the store in opts.Dir, first repairing what a crash may have
// left: temporary files are removed, files without a record are removed, and
// a blob whose file is missing or of the wrong length is marked incomplete.
func Open(opts Options) (*Store, error) {
	if opts.Dir == "" || opts.DB == nil {
		return nil, errors.New("open blob store: Dir and DB are required")
	}
	if opts.MaxSize < 0 {
		return nil, fmt.Errorf("open blob store: negative MaxSize %d", opts.MaxSize)
	}
	s := &Store{
		dir:     opts.Dir,
		db:      opts.DB,
		max:     opts.MaxSize,
		log:     opts.Logger,
		imports: make(map[id.Blob]*Import),

		onComplete: opts.OnComplete,
	}
	if s.max == 0 {
		s.max = DefaultMaxSize
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("open blob store: %w", err)
	}
	if err := s.recover(); err != nil {
		return nil, fmt.Errorf("open blob store: %w", err)
	}
	return s, nil
}

// Close aborts imports in progress (their verified groups stay on disk for a
// later BeginImport) and makes further calls fail with ErrClosed. Readers
// already open stay usable until closed. It does not close the database.
// Close is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	imps := make([]*Import, 0, len(s.imports))
	for _, imp := range s.imports {
		imps = append(imps, imp)
	}
	s.mu.Unlock()
	var errs []error
	for _, imp := range imps {
		errs = append(errs, imp.Abort())
	}
	return errors.Join(errs...)
}

func (s *Store) checkOpen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return nil
}

// Stat returns the metadata of b, complete or not; ErrNotFound if unknown.
func (s *Store) Stat(ctx context.Context, b id.Blob) (Info, error) {
	if err := s.checkOpen(); err != nil {
		return Info{}, fmt.Errorf("stat blob %s: %w", b, err)
	}
	r, found, err := s.getRecord(b)
	if err != nil {
		return Info{}, fmt.Errorf("stat blob %s: %w", b, err)
	}
	if !found {
		return Info{}, fmt.Errorf("stat blob %s: %w", b, ErrNotFound)
	}
	return r.info(b), nil
}

// Usage returns the number of complete blobs and their total size. It reads
// two counters.
func (s *Store) Usage() (blobs int, bytes int64) {
	return int(s.blobs.Load()), s.bytes.Load()
}

func (s *Store) lock(b id.Blob) func() {
	m := &s.locks[b[0]]
	m.Lock()
	return m.Unlock
}

func (s *Store) finalPath(b id.Blob) string { return filepath.Join(s.dir, id.Hash(b).String()) }
func (s *Store) partPath(b id.Blob) string {
	return filepath.Join(s.dir, id.Hash(b).String()+partSuffix)
}

func (s *Store) counted(r record, sign int64) {
	if r.Complete {
		s.blobs.Add(sign)
		s.bytes.Add(sign * r.Size)
	}
}

// Delete removes b, complete or partial. Open Readers keep reading the bytes
// they opened. It fails with ErrBusy while b is being imported.
func (s *Store) Delete(ctx context.Context, b id.Blob) error {
	if err := s.checkOpen(); err != nil {
		return fmt.Errorf("delete blob %s: %w", b, err)
	}
	s.mu.Lock()
	_, busy := s.imports[b]
	s.mu.Unlock()
	if busy {
		return fmt.Errorf("delete blob %s: %w", b, ErrBusy)
	}
	defer s.lock(b)()
	r, found, err := s.getRecord(b)
	if err != nil {
		return fmt.Errorf("delete blob %s: %w", b, err)
	}
	if !found {
		return fmt.Errorf("delete blob %s: %w", b, ErrNotFound)
	}
	// Record first: a crash after it leaves orphan files, which Open removes.
	if err := s.deleteRecord(b); err != nil {
		return fmt.Errorf("delete blob %s: %w", b, err)
	}
	s.counted(r, -1)
	return errors.Join(removeIfExists(s.finalPath(b)), removeIfExists(s.partPath(b)))
}

// markCorrupt is called when b's stored bytes failed verification or its
// file is missing: the file is set aside as a partial import (its good
// groups can be reused by BeginImport) and the record marked incomplete, so
// the blob is no longer served until repaired. seen is the file found bad
// (nil when it is missing): if the blob's file has since been replaced by a
// repair, the new file is left alone.
func (s *Store) markCorrupt(b id.Blob, seen *os.File, cause error) {
	defer s.lock(b)()
	r, found, err := s.getRecord(b)
	if err != nil || !found || !r.Complete {
		return
	}
	if seen != nil {
		a, errA := seen.Stat()
		c, errC := os.Stat(s.finalPath(b))
		if errA == nil && errC == nil && !os.SameFile(a, c) {
			return
		}
	}
	s.log.Warn("blob corrupt, marked incomplete", "blob", b, "err", cause)
	if err := os.Rename(s.finalPath(b), s.partPath(b)); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Error("set aside corrupt blob", "blob", b, "err", err)
	}
	r.Complete = false
	if err := s.putRecord(b, r); err != nil {
		s.log.Error("mark blob incomplete", "blob", b, "err", err)
		return
	}
	s.counted(record{Complete: true, Size: r.Size}, -1)
}

func removeIfExists(name string) error {
	if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// syncDir makes renames and creations in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}

// noSpace adds ErrNoSpace to err when the disk is full.
func noSpace(err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w: %w", ErrNoSpace, err)
	}
	return err
}

var _ io.Closer = (*Store)(nil)
