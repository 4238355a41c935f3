package state

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/onvm-network/onvm/internal/id"
)

// TestRecordCache fills small caches far past their size with records of
// every encoded length and checks that whatever a get finds is exactly the
// record put under that hash, that the latest puts are always found, and
// that a record read on every round survives however much is put after it.
func TestRecordCache(t *testing.T) {
	for _, budget := range []int64{1, 64 << 10, 1 << 20} {
		t.Run(fmt.Sprint(budget), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(budget), 7))
			c := newRecordCache(budget)
			recs := map[id.Hash]*record{}
			var order []id.Hash
			hot := randomRecord(rng)
			hotH := id.Sum(hot.encode())
			c.put(&hotH, hot.encode())
			for i := range 20_000 {
				r := randomRecord(rng)
				h := id.Sum(r.encode())
				c.put(&h, r.encode())
				recs[h] = r
				order = append(order, h)
				var got record
				if !c.get(&h, &got) {
					t.Fatalf("put %d: not found right after put", i)
				}
				if !bytes.Equal(got.encode(), r.encode()) {
					t.Fatalf("put %d: got %+v, want %+v", i, got, *r)
				}
				if i%10 == 0 {
					if !c.get(&hotH, &got) || !bytes.Equal(got.encode(), hot.encode()) {
						t.Fatalf("put %d: hot record lost or changed", i)
					}
				}
				if i%97 == 0 {
					for _, h := range order[max(0, len(order)-200):] {
						if enc, ok := peek(c, &h); ok && !bytes.Equal(enc, recs[h].encode()) {
							t.Fatalf("put %d: record %s changed in the cache", i, h)
						}
					}
				}
			}
			for i := range c.shards {
				s := &c.shards[i]
				if len(s.ring) > s.max {
					t.Errorf("shard %d: ring of %d bytes, max %d", i, len(s.ring), s.max)
				}
				for j, e := range s.slots {
					if e == 0 {
						continue
					}
					h := id.Hash(s.ring[uint32(e):])
					if s.set(&h) != j/cacheWays*cacheWays || cacheTag(&h) != e&^0xffffffff {
						t.Fatalf("shard %d: slot %d points at %s, of another set or tag", i, j, h)
					}
				}
			}
		})
	}
}

// peek returns the encoding cached under h without touching the cache's
// state.
func peek(c *recordCache, h *id.Hash) ([]byte, bool) {
	s := c.shard(h)
	off, ok := s.find(h)
	if !ok {
		return nil, false
	}
	o := off + id.Size
	return s.ring[o+1 : o+1+int(s.ring[o])], true
}

// randomRecord returns a valid branch or root-leaf record.
func randomRecord(rng *rand.Rand) *record {
	var kh id.Hash
	for i := range kh {
		kh[i] = byte(rng.Uint32())
	}
	if rng.IntN(8) == 0 {
		return &record{split: Depth, path: kh, lh: id.Sum(kh[:])}
	}
	r := &record{split: rng.IntN(Depth)}
	r.path = prefixOf(&kh, r.split)
	for i := range r.kids {
		k := &r.kids[i]
		k.h = id.Sum([]byte{byte(i), byte(rng.Uint32())})
		if rng.IntN(2) == 0 {
			k.leaf = true
			k.kh = kh
			if bit(&k.kh, r.split) != i {
				k.kh[r.split/8] ^= 1 << (7 - uint(r.split%8))
			}
			k.lh = id.Sum(k.kh[:])
		}
	}
	return r
}
