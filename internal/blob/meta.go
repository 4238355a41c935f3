package blob

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/id"
)

// Metadata records live in the shared node database under "b/m/" followed by
// the 32 raw bytes of the id; the value is the canonical CBOR of record.
// Every write uses pebble.Sync: a record is the commit point of a blob.

var metaPrefix = []byte("b/m/")

func metaKey(b id.Blob) []byte {
	k := make([]byte, 0, len(metaPrefix)+id.Size)
	return append(append(k, metaPrefix...), b[:]...)
}

// metaUpper is the exclusive upper bound of the record key range.
func metaUpper() []byte {
	u := append([]byte(nil), metaPrefix...)
	u[len(u)-1]++
	return u
}

// record is the stored metadata of one blob.
type record struct {
	Size     int64  `cbor:"1,keyasint"`
	MIME     string `cbor:"2,keyasint,omitempty"`
	Groups   int64  `cbor:"3,keyasint"`
	Created  int64  `cbor:"4,keyasint"` // Unix nanoseconds
	Complete bool   `cbor:"5,keyasint,omitempty"`
}

func (r record) info(b id.Blob) Info {
	return Info{
		ID:        b,
		Size:      r.Size,
		MIME:      r.MIME,
		Groups:    int(r.Groups),
		Complete:  r.Complete,
		CreatedAt: time.Unix(0, r.Created).UTC(),
	}
}

func decodeRecord(b id.Blob, v []byte) (record, error) {
	var r record
	if err := codec.Unmarshal(v, &r); err != nil {
		return record{}, fmt.Errorf("decode record of %s: %w", b, err)
	}
	if r.Size < 0 || r.Groups != Groups(r.Size) {
		return record{}, fmt.Errorf("decode record of %s: size %d with %d groups: %w", b, r.Size, r.Groups, ErrCorrupt)
	}
	return r, nil
}

// getRecord returns the record of b; found is false when there is none.
func (s *Store) getRecord(b id.Blob) (r record, found bool, err error) {
	v, closer, err := s.db.Get(metaKey(b))
	if errors.Is(err, pebble.ErrNotFound) {
		return record{}, false, nil
	}
	if err != nil {
		return record{}, false, fmt.Errorf("read record of %s: %w", b, err)
	}
	defer closer.Close()
	r, err = decodeRecord(b, v)
	return r, err == nil, err
}

// putRecord writes b's record, synced; a complete one in one batch with
// what OnComplete stages.
func (s *Store) putRecord(b id.Blob, r record) error {
	v, err := codec.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode record of %s: %w", b, err)
	}
	batch := s.db.NewBatch()
	defer batch.Close()
	if err := batch.Set(metaKey(b), v, nil); err != nil {
		return fmt.Errorf("write record of %s: %w", b, err)
	}
	if r.Complete && s.onComplete != nil {
		if err := s.onComplete(batch, r.info(b)); err != nil {
			return fmt.Errorf("write record of %s: %w", b, err)
		}
	}
	if err := batch.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("write record of %s: %w", b, noSpace(err))
	}
	return nil
}

func (s *Store) deleteRecord(b id.Blob) error {
	if err := s.db.Delete(metaKey(b), pebble.Sync); err != nil {
		return fmt.Errorf("delete record of %s: %w", b, noSpace(err))
	}
	return nil
}

// eachRecord calls fn for every record in key order. A record that does not
// decode is reported to bad and skipped.
func (s *Store) eachRecord(fn func(id.Blob, record) error, bad func(id.Blob, error)) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: metaPrefix, UpperBound: metaUpper()})
	if err != nil {
		return fmt.Errorf("scan blob records: %w", err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != len(metaPrefix)+id.Size {
			continue
		}
		var b id.Blob
		copy(b[:], k[len(metaPrefix):])
		r, err := decodeRecord(b, it.Value())
		if err != nil {
			bad(b, err)
			continue
		}
		if err := fn(b, r); err != nil {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("scan blob records: %w", err)
	}
	return nil
}

// List returns up to limit ids of the blobs the store holds a record of
// (complete or partial), in id order, starting after the id after (from the
// first when nil). Pass the last id returned to read the next page.
func (s *Store) List(ctx context.Context, after *id.Blob, limit int) ([]id.Blob, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	lower := metaPrefix
	if after != nil {
		lower = append(metaKey(*after), 0)
	}
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lower, UpperBound: metaUpper()})
	if err != nil {
		return nil, fmt.Errorf("list blobs: %w", err)
	}
	defer it.Close()
	var out []id.Blob
	for ok := it.First(); ok && len(out) < limit; ok = it.Next() {
		if k := it.Key(); len(k) == len(metaPrefix)+id.Size {
			out = append(out, id.Blob(k[len(metaPrefix):]))
		}
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("list blobs: %w", err)
	}
	return out, nil
}
