// Package kv holds the few helpers every store over the node's pebble
// database needs: a copying Get, prefix bounds and a prefix scan. It knows
// no key layout; each store owns its prefix.
package kv

import (
	"bytes"
	"errors"
	"io"

	"github.com/cockroachdb/pebble/v2"
)

// Getter is what Get reads from: a database, a batch or a snapshot.
type Getter interface {
	Get(key []byte) ([]byte, io.Closer, error)
}

// Iterable is what Scan reads from.
type Iterable interface {
	NewIter(o *pebble.IterOptions) (*pebble.Iterator, error)
}

// Get returns a copy of the value of k, or found false.
func Get(r Getter, k []byte) (v []byte, found bool, err error) {
	b, closer, err := r.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	v = bytes.Clone(b)
	return v, true, closer.Close()
}

// PrefixEnd returns the smallest key above every key with prefix p (nil:
// none, when p is all 0xff).
func PrefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// ErrStop, returned by a Scan callback, ends the scan without an error.
var ErrStop = errors.New("kv: stop scan")

// Scan calls fn for each key with prefix p, in order. The slices are valid
// only during the call.
func Scan(r Iterable, p []byte, fn func(k, v []byte) error) error {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: PrefixEnd(p)})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		if err := fn(it.Key(), it.Value()); err != nil {
			it.Close()
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	if err := it.Error(); err != nil {
		it.Close()
		return err
	}
	return it.Close()
}
