package node

import (
	"log/slog"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
)

// dbCacheBytes is the pebble block cache of the node's database.
//
// The hottest reads, the state tree's branch records, are served by the
// state store's own record cache (internal/state, 256 MiB by default).
// The block cache serves everything else that is read by point lookups:
// state values (Get), leaf records for proofs, branch records the record
// cache has dropped, and the other stores' records. 128 MiB holds the
// index and filter blocks of a database of tens of millions of records
// (bloom filters cost ~1.25 bytes per key) and a working set of data
// blocks; pebble's default of 8 MiB turns most reads into a file read and a
// block decompression. See docs/rationale/state.md.
const dbCacheBytes = 128 << 20

// dbOptions returns the options the node opens its database with: a quiet
// logger, a dbCacheBytes block cache (pebble creates and owns it), and
// bloom filters on every level, since nearly every read in the node is a
// point lookup of a hash-named or exact key, and a filter lets a Get skip
// the levels that do not hold the key without reading their blocks.
func dbOptions(log *slog.Logger) *pebble.Options {
	o := &pebble.Options{Logger: pebbleLogger{log}, CacheSize: dbCacheBytes}
	for i := range o.Levels {
		o.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	return o
}
