package replica

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/id"
)

// Key layout under the "n/" prefix of the node's database. Heights are
// big-endian so that keys sort numerically. All of it is bookkeeping that
// the DAG can rebuild: losing it loses no data, only work in progress.
//
//	n/b/<blob>                         → blobMeta (CBOR): what blob_published said
//	n/v/<node>                         → canonical consensus.Validator
//	n/l/<node>                         → Unix ms of its latest heartbeat's vertex
//	n/a/<program><manifest id>         → every manifest the DAG delivered (bytes)
//	n/m/<program><manifest id>         → manifest bytes awaiting their code
//	n/x/<manifest id>                  → why the manifest was refused
//	n/w/<program><height><receipt id>  → transition op body awaiting its manifest
//	n/j/<job>                          → job_record op body awaiting a job service
//	n/h/<job>                          → the node that is the job's home (routed jobs)
const (
	pfxBlob      = "n/b/"
	pfxValidator = "n/v/"
	pfxHeard     = "n/l/"
	pfxSeen      = "n/a/"
	pfxManifest  = "n/m/"
	pfxRefused   = "n/x/"
	pfxWaiting   = "n/w/"
	pfxJob       = "n/j/"
	pfxJobHome   = "n/h/"
)

func key(prefix string, parts ...[]byte) []byte {
	k := []byte(prefix)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// upper returns the smallest key greater than every key with prefix p.
func upper(p []byte) []byte {
	u := bytes.Clone(p)
	for i := len(u) - 1; i >= 0; i-- {
		if u[i] < 0xff {
			u[i]++
			return u[:i+1]
		}
	}
	return nil
}

// get returns a copy of the value at k.
func get(db *pebble.DB, k []byte) ([]byte, bool, error) {
	v, closer, err := db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %q: %w", k[:4], err)
	}
	out := bytes.Clone(v)
	_ = closer.Close()
	return out, true, nil
}

// scan calls fn for each key with prefix p, in order, until fn returns
// false or an error.
func scan(db *pebble.DB, p []byte, fn func(k, v []byte) (bool, error)) error {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: upper(p)})
	if err != nil {
		return err
	}
	defer func() { _ = it.Close() }()
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		more, err := fn(bytes.Clone(it.Key()), bytes.Clone(v))
		if err != nil || !more {
			return err
		}
	}
	return it.Error()
}

func programKey(prefix string, p id.Program, rest ...[]byte) []byte {
	return key(prefix, append([][]byte{p[:]}, rest...)...)
}
