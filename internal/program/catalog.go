package program

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/onvm-network/onvm/internal/id"
)

// Catalog errors.
var (
	// ErrNotFound reports a program the catalog holds no manifest for.
	ErrNotFound = errors.New("program not found")
	// ErrConflict reports a second, different manifest for a program id the
	// catalog already holds; the first one stays.
	ErrConflict = errors.New("a different manifest is already stored for this program")
)

// catalogPrefix is the catalog's key prefix in the shared database: "p/m/"
// followed by the 32-byte program id holds the manifest's canonical bytes.
const catalogPrefix = "p/m/"

// MaxListLimit bounds one page of List.
const MaxListLimit = 1000

// CodeSource gives the catalog the program code a node holds locally, so
// that a manifest is checked against its code whenever it can be.
type CodeSource interface {
	// LocalCode returns the bytes of blob b when they are stored on this
	// node (ok false when they are not), verified against b.
	LocalCode(ctx context.Context, b id.Blob) (code []byte, ok bool, err error)
}

// Catalog stores verified manifests under the "p/" prefix of the node's
// database. It is safe for concurrent use.
type Catalog struct {
	db    *pebble.DB
	code  CodeSource // nil: never checks code
	mu    sync.Mutex // serialises Put
	cache *lru.Cache[id.Program, *Manifest]
}

// NewCatalog returns a catalog over db. code may be nil.
func NewCatalog(db *pebble.DB, code CodeSource) *Catalog {
	c, _ := lru.New[id.Program, *Manifest](4096) // only fails for a size ≤ 0
	return &Catalog{db: db, code: code, cache: c}
}

func catalogKey(p id.Program) []byte {
	return append([]byte(catalogPrefix), p[:]...)
}

// Put verifies m — shape, committee and signature, and its code when the
// code is stored locally — and stores it. Storing the same manifest again
// returns created false; a different manifest for a stored program id is
// ErrConflict, returned with the stored one.
func (c *Catalog) Put(ctx context.Context, m *Manifest) (stored *Manifest, created bool, err error) {
	return c.PutWith(ctx, m, nil)
}

// PutWith is Put that, when it stores m, first lets stage add to the
// batch that stores it (the deployer's outbox entry), so that both are
// committed, synced, or neither. stage does not run when m is already
// stored or conflicts; nil stages nothing.
func (c *Catalog) PutWith(ctx context.Context, m *Manifest, stage func(*pebble.Batch) error) (stored *Manifest, created bool, err error) {
	enc := m.Encode()
	dm, err := Decode(enc) // the canonical bytes must decode and verify
	if err != nil {
		return nil, false, fmt.Errorf("store manifest %s: %w", m.Body.Program, err)
	}
	p := dm.Body.Program
	if c.code != nil {
		code, ok, err := c.code.LocalCode(ctx, dm.Body.CodeBlob)
		if err != nil {
			return nil, false, fmt.Errorf("store manifest %s: read code: %w", p, err)
		}
		if ok {
			if err := dm.VerifyCode(code); err != nil {
				return nil, false, fmt.Errorf("store manifest %s: %w", p, err)
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old, oldEnc, err := c.read(p)
	switch {
	case err == nil && bytes.Equal(oldEnc, enc):
		return old, false, nil
	case err == nil:
		return old, false, fmt.Errorf("store manifest %s: %w", p, ErrConflict)
	case !errors.Is(err, ErrNotFound):
		return nil, false, err
	}
	b := c.db.NewBatch()
	defer b.Close()
	if err := b.Set(catalogKey(p), enc, nil); err != nil {
		return nil, false, fmt.Errorf("store manifest %s: %w", p, err)
	}
	if stage != nil {
		if err := stage(b); err != nil {
			return nil, false, fmt.Errorf("store manifest %s: %w", p, err)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return nil, false, fmt.Errorf("store manifest %s: %w", p, err)
	}
	c.cache.Add(p, dm)
	return dm, true, nil
}

// Get returns the manifest of p, or ErrNotFound.
func (c *Catalog) Get(p id.Program) (*Manifest, error) {
	if m, ok := c.cache.Get(p); ok {
		return m, nil
	}
	m, _, err := c.read(p)
	if err != nil {
		return nil, err
	}
	c.cache.Add(p, m)
	return m, nil
}

// read loads and verifies the stored manifest of p.
func (c *Catalog) read(p id.Program) (*Manifest, []byte, error) {
	v, closer, err := c.db.Get(catalogKey(p))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil, fmt.Errorf("program %s: %w", p, ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read manifest %s: %w", p, err)
	}
	enc := bytes.Clone(v)
	_ = closer.Close()
	m, err := Decode(enc)
	if err != nil {
		return nil, nil, fmt.Errorf("read manifest %s: stored manifest: %w", p, err)
	}
	if m.Body.Program != p {
		return nil, nil, fmt.Errorf("read manifest %s: %w: stored under another id", p, ErrInvalidManifest)
	}
	return m, enc, nil
}

// List returns up to limit manifests in program id order, starting after
// the program id after (from the first when nil), and whether more follow.
// limit is clamped to 1..MaxListLimit.
func (c *Catalog) List(after *id.Program, limit int) (ms []*Manifest, more bool, err error) {
	limit = min(max(limit, 1), MaxListLimit)
	lower := []byte(catalogPrefix)
	if after != nil {
		lower = append(catalogKey(*after), 0) // the next key after it
	}
	upper := []byte(catalogPrefix)
	upper[len(upper)-1]++
	it, err := c.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, false, fmt.Errorf("list programs: %w", err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		if len(ms) == limit {
			return ms, true, nil
		}
		p := id.Program(it.Key()[len(catalogPrefix):])
		if m, ok := c.cache.Get(p); ok {
			ms = append(ms, m)
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, false, fmt.Errorf("list programs: %w", err)
		}
		m, err := Decode(bytes.Clone(v))
		if err != nil {
			return nil, false, fmt.Errorf("list programs: %s: %w", p, err)
		}
		ms = append(ms, m)
	}
	if err := it.Error(); err != nil {
		return nil, false, fmt.Errorf("list programs: %w", err)
	}
	return ms, false, nil
}
