package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/kv"
)

// Options tune a Store. The zero value is valid.
type Options struct {
	// CacheBytes is the memory for tree records kept in memory, shared by
	// all programs: about 200 bytes per record with its index, so the
	// default covers every branch of a 1,000,000-key program (one per
	// key). Records are immutable and content-addressed, so the cache is
	// never invalidated; each branch read it saves is a pebble Get (about
	// 4 µs of CPU, more than the rest of an update's work on that level).
	// Default DefaultCacheBytes; negative disables it.
	CacheBytes int64
}

// DefaultCacheBytes is the default Options.CacheBytes: 256 MiB.
const DefaultCacheBytes = 256 << 20

// Store is the per-program state of every program, in one pebble database.
// It is safe for concurrent use.
type Store struct {
	db    *pebble.DB
	cache *recordCache // nil when disabled
}

// reader is what Store reads through: the database, or an indexed batch so
// that an Apply sees what earlier Applies staged in the same batch.
type reader interface {
	Get(key []byte) ([]byte, io.Closer, error)
}

// Open returns a Store over db with default Options.
func Open(db *pebble.DB) (*Store, error) { return OpenWith(db, Options{}) }

// OpenWith returns a Store over db. It records the storage format version on
// first use and refuses a database written in another format.
func OpenWith(db *pebble.DB, o Options) (*Store, error) {
	s := &Store{db: db}
	if o.CacheBytes == 0 {
		o.CacheBytes = DefaultCacheBytes
	}
	if o.CacheBytes > 0 {
		s.cache = newRecordCache(o.CacheBytes)
	}
	v, ok, err := kv.Get(db, []byte(keyFormat))
	switch {
	case err != nil:
		return nil, fmt.Errorf("open state: %w", err)
	case !ok:
		if err := db.Set([]byte(keyFormat), []byte{formatVersion}, pebble.Sync); err != nil {
			return nil, fmt.Errorf("open state: record format: %w", err)
		}
	case len(v) != 1 || v[0] != formatVersion:
		return nil, fmt.Errorf("open state: %w: format %x, this build reads %d", ErrCorrupt, v, formatVersion)
	}
	return s, nil
}

// Root returns p's current committed root, EmptyRoot if p has no state.
func (s *Store) Root(p id.Program) (id.Hash, error) {
	root, _, err := readHead(s.db, p)
	if err != nil {
		return id.Hash{}, fmt.Errorf("state root of %s: %w", p, err)
	}
	return root, nil
}

// Get returns the committed value of key in p's state and whether it is
// present (a present value may be empty).
func (s *Store) Get(p id.Program, key []byte) ([]byte, bool, error) {
	v, ok, err := kv.Get(s.db, valueKey(p, key))
	if err != nil {
		return nil, false, fmt.Errorf("get state %s key %x: %w", p, key, err)
	}
	return v, ok, nil
}

// List returns the committed keys of p that start with prefix, sorted
// bytewise, at most limit of them (all when limit ≤ 0).
func (s *Store) List(p id.Program, prefix []byte, limit int) ([][]byte, error) {
	var keys [][]byte
	err := s.scan(p, prefix, nil, func(k, _ []byte) bool {
		keys = append(keys, bytes.Clone(k))
		return limit <= 0 || len(keys) < limit
	})
	if err != nil {
		return nil, fmt.Errorf("list state %s prefix %x: %w", p, prefix, err)
	}
	return keys, nil
}

// Entries calls fn with each committed key of p at or after start, in
// bytewise order, with its value, until fn returns false. The slices are
// valid only during the call. It serves state sync (pages resume from the
// key after the last one sent) and statistics.
func (s *Store) Entries(p id.Program, start []byte, fn func(key, value []byte) bool) error {
	if err := s.scan(p, nil, start, fn); err != nil {
		return fmt.Errorf("state entries %s: %w", p, err)
	}
	return nil
}

func (s *Store) scan(p id.Program, prefix, start []byte, fn func(k, v []byte) bool) error {
	lower := valueKey(p, prefix)
	if bytes.Compare(start, prefix) > 0 {
		lower = valueKey(p, start)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: kv.PrefixEnd(valueKey(p, prefix))})
	if err != nil {
		return err
	}
	n := len(nsValue) + id.Size
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return err
		}
		if !fn(it.Key()[n:], v) {
			break
		}
	}
	return it.Close()
}

// RootWith returns the root p's state would have with overlay applied to
// the committed state, without writing anything (the runtime's
// onvm_state_root). Later writes of a key override earlier ones.
func (s *Store) RootWith(p id.Program, overlay []Write) (id.Hash, error) {
	root, _, err := readHead(s.db, p)
	if err != nil {
		return id.Hash{}, fmt.Errorf("state root with overlay %s: %w", p, err)
	}
	n, err := s.updater(s.db, p).run(root, prepare(overlay))
	if err != nil {
		return id.Hash{}, fmt.Errorf("state root with overlay %s: %w", p, err)
	}
	return rootOf(n), nil
}

// Apply stages writes to p's state into b and returns the new root. It
// fails with ErrRootMismatch, staging nothing, unless p's current root (as
// seen through b when b is indexed, else as committed) is expectRoot.
//
// Nothing is visible until the caller commits b, together with its own
// records; discarding b discards the transition. With an indexed batch,
// several Applies of one program may be staged in sequence in the same
// batch. The caller serialises the transitions of a program; different
// programs may be applied concurrently (each into its own batch). On any
// error the batch may hold part of the transition and must be discarded.
func (s *Store) Apply(b *pebble.Batch, p id.Program, expectRoot id.Hash, writes []Write) (id.Hash, error) {
	var r reader = s.db
	if b.Indexed() {
		r = b
	}
	root, seq, err := readHead(r, p)
	if err != nil {
		return id.Hash{}, fmt.Errorf("apply state %s: %w", p, err)
	}
	if root != expectRoot {
		return id.Hash{}, fmt.Errorf("apply state %s: %w: current %s, expected %s", p, ErrRootMismatch, root, expectRoot)
	}
	ws := prepare(writes)
	n, err := s.updater(r, p).run(root, ws)
	if err != nil {
		return id.Hash{}, fmt.Errorf("apply state %s: %w", p, err)
	}
	newRoot := rootOf(n)
	err = emitTree(n, true, batchEmitter{s, b, p})
	for i := 0; err == nil && i < len(ws); i++ {
		w := &ws[i]
		var op *pebble.DeferredBatchOp
		if n := len(nsValue) + id.Size + len(w.key); w.del {
			op = b.DeleteDeferred(n)
		} else {
			op = b.SetDeferred(n, len(w.value))
			copy(op.Value, w.value)
		}
		putProgKey(op.Key, nsValue, p, w.key)
		err = op.Finish()
	}
	if err == nil {
		err = writeHead(b, p, newRoot, seq+1)
	}
	if err != nil {
		return id.Hash{}, fmt.Errorf("apply state %s: stage: %w", p, err)
	}
	return newRoot, nil
}

// batchEmitter stages a new tree's records into a batch.
type batchEmitter struct {
	s *Store
	b *pebble.Batch
	p id.Program
}

// node stages a tree record, encoded straight into the batch, and caches
// it (the next Apply of a committed batch reads these first).
func (e batchEmitter) node(h *id.Hash, rec *record) error {
	op := e.b.SetDeferred(len(nsNode)+2*id.Size, rec.encodedLen())
	putProgKey(op.Key, nsNode, e.p, h[:])
	rec.appendTo(op.Value[:0])
	if e.s.cache != nil {
		e.s.cache.put(h, op.Value)
	}
	return op.Finish()
}

func (e batchEmitter) leaf(rec *record) error {
	op := e.b.SetDeferred(len(nsLeaf)+2*id.Size, leafValueLen(rec.key, rec.value))
	putProgKey(op.Key, nsLeaf, e.p, rec.lh[:])
	appendLeafValue(op.Value[:0], rec.key, rec.value)
	return op.Finish()
}

// updater returns an update of p's tree reading records through r.
func (s *Store) updater(r reader, p id.Program) *update {
	return &update{s: s, r: r, p: p}
}

// load returns the record stored for p under h.
func (s *Store) load(r reader, p id.Program, h *id.Hash) (*record, error) {
	rec := &record{}
	if err := s.loadInto(r, p, h, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// loadInto reads the record stored for p under h into rec.
func (s *Store) loadInto(r reader, p id.Program, h *id.Hash, rec *record) error {
	if s.cache != nil && s.cache.get(h, rec) {
		return nil
	}
	var kb [len(nsNode) + 2*id.Size]byte
	putProgKey(kb[:], nsNode, p, h[:])
	v, closer, err := r.Get(kb[:])
	if errors.Is(err, pebble.ErrNotFound) {
		return fmt.Errorf("%w: no record for node %s", ErrCorrupt, h)
	}
	if err != nil {
		return err
	}
	err = decodeRecordInto(v, rec)
	if err == nil && s.cache != nil {
		s.cache.put(h, v)
	}
	if cerr := closer.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("node %s: %w", h, err)
	}
	return nil
}

func rootOf(n *tnode) id.Hash {
	if n == nil {
		return EmptyRoot
	}
	hashTreeBatched(n)
	return n.h
}

// readHead returns p's current root and the sequence number of its last
// Apply (EmptyRoot and 0 for a program never applied).
func readHead(r reader, p id.Program) (id.Hash, uint64, error) {
	v, ok, err := kv.Get(r, headKey(p))
	if err != nil || !ok {
		return EmptyRoot, 0, err
	}
	if len(v) != id.Size+8 {
		return id.Hash{}, 0, fmt.Errorf("%w: head of %d bytes", ErrCorrupt, len(v))
	}
	return id.Hash(v[:id.Size]), binary.BigEndian.Uint64(v[id.Size:]), nil
}

func writeHead(b *pebble.Batch, p id.Program, root id.Hash, seq uint64) error {
	var v [id.Size + 8]byte
	copy(v[:], root[:])
	binary.BigEndian.PutUint64(v[id.Size:], seq)
	if err := b.Set(headKey(p), v[:], nil); err != nil {
		return err
	}
	return b.Set(rootKey(p, &root), v[id.Size:], nil)
}
