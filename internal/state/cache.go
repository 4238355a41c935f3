package state

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"

	"github.com/onvm-network/onvm/internal/id"
)

// recordCache keeps encoded tree records in memory, keyed by their hash.
// Records are immutable and content-addressed, so it is never invalidated.
//
// It holds no Go pointers: each shard is one byte ring of entries and one
// index of uint64 slots, neither of which the garbage collector scans. A
// cache of decoded records behind pointers (the hashicorp LRU it replaces)
// made every GC cycle walk a million records. The index is 8-way
// set-associative, one 64-byte cache line per set, and takes its set and
// tag straight from the hash's bytes (they are uniformly random already):
// a lookup in a million-entry cache is one cache-line miss for the set and
// one for the entry, where a Go map with 32-byte keys took several
// (docs/rationale/state.md).
//
// Eviction is FIFO with a second chance: records are appended at the
// ring's write head and overwritten a lap later, but a record read while in
// the quarter of the ring next in line to be overwritten is appended again.
// The upper levels of a busy tree, read on every update, therefore stay.
// A full set drops the slot whose entry the write head would reach first.
type recordCache struct {
	shards [cacheShards]cacheShard
}

// cacheShards splits the cache by the first byte of the hash so that
// concurrent Applies of different programs rarely share a lock.
const cacheShards = 16

// cacheEntryOverhead is the ring header of an entry (hash, length).
const cacheEntryOverhead = id.Size + 1

// cacheAvgRecord is the average encoded branch record at a million keys.
const cacheAvgRecord = 136

// cacheWays is the associativity of the index: a set is one cache line.
const cacheWays = 8

// cacheIndexBytes estimates the index's memory per entry (8-byte slots,
// sets 3/16 to 3/8 full, so that a full set, which drops an entry, is
// rare), counted against the budget.
const cacheIndexBytes = 32

// cacheRecordBytes estimates an entry's total memory: ring and index.
const cacheRecordBytes = cacheEntryOverhead + cacheAvgRecord + cacheIndexBytes

type cacheShard struct {
	mu sync.Mutex
	// ring grows by doubling up to max bytes; entries are
	// hash ‖ len[1] ‖ record, contiguous from 0 to w (this lap), then
	// from next to limit (the previous lap, oldest first).
	ring           []byte
	max            int
	w, next, limit int
	// slots index the ring: tag[4] ‖ offset[4], zero when free, in sets
	// of cacheWays; the set of a hash is its bytes 1–4, the tag 5–8.
	slots        []uint64
	hits, misses uint64
}

// newRecordCache returns a cache of about budget bytes in total.
func newRecordCache(budget int64) *recordCache {
	c := &recordCache{}
	ringBytes := budget * (cacheRecordBytes - cacheIndexBytes) / cacheRecordBytes / cacheShards
	for i := range c.shards {
		// Offsets are 32-bit: a shard's ring is at most 4 GiB.
		c.shards[i].max = int(min(max(ringBytes, 4096), math.MaxUint32))
	}
	return c
}

func (c *recordCache) shard(h *id.Hash) *cacheShard { return &c.shards[h[0]%cacheShards] }

func cacheTag(h *id.Hash) uint64 {
	return uint64(max(binary.LittleEndian.Uint32(h[5:]), 1)) << 32
}

// set returns the index of the first slot of h's set.
func (s *cacheShard) set(h *id.Hash) int {
	sets := len(s.slots) / cacheWays
	return int(binary.LittleEndian.Uint32(h[1:])&uint32(sets-1)) * cacheWays
}

// find returns the ring offset of h's entry.
func (s *cacheShard) find(h *id.Hash) (int, bool) {
	if len(s.slots) == 0 {
		return 0, false
	}
	b, tag := s.set(h), cacheTag(h)
	for _, e := range s.slots[b : b+cacheWays] {
		if e&^0xffffffff == tag {
			if off := int(uint32(e)); id.Hash(s.ring[off:]) == *h {
				return off, true
			}
		}
	}
	return 0, false
}

// index points h at the entry at off, dropping the set's slot nearest
// the write head if the set is full.
func (s *cacheShard) index(h *id.Hash, off int) {
	b, tag := s.set(h), cacheTag(h)
	victim, soonest := b, len(s.ring)
	for i := b; i < b+cacheWays; i++ {
		e := s.slots[i]
		if e == 0 {
			victim = i
			break
		}
		if d := (int(uint32(e)) - s.w + len(s.ring)) % len(s.ring); d < soonest {
			victim, soonest = i, d
		}
	}
	s.slots[victim] = tag | uint64(off)
}

// unindex frees h's slot if it points at off.
func (s *cacheShard) unindex(h *id.Hash, off int) {
	b, e := s.set(h), cacheTag(h)|uint64(off)
	for i := b; i < b+cacheWays; i++ {
		if s.slots[i] == e {
			s.slots[i] = 0
			return
		}
	}
}

// get decodes the record cached under h into r and reports whether there
// was one.
func (c *recordCache) get(h *id.Hash, r *record) bool {
	s := c.shard(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.find(h)
	if !ok {
		s.misses++
		return false
	}
	s.hits++
	n := int(s.ring[o+id.Size])
	enc := s.ring[o+cacheEntryOverhead : o+cacheEntryOverhead+n]
	if decodeRecordInto(enc, r) != nil {
		// Cannot happen: only records that decoded or were encoded by
		// this package are cached. Treat as a miss.
		s.unindex(h, o)
		return false
	}
	if d := (o - s.w + len(s.ring)) % len(s.ring); d < len(s.ring)/4 && len(s.ring) >= s.max {
		// Next in line to be overwritten (d bytes ahead of the write
		// head, which wraps to 0), and read: keep it.
		var buf [256]byte
		s.unindex(h, o)
		s.put(h, append(buf[:0], enc...))
	}
	return true
}

// put caches enc, a record's encoding (at most 255 bytes), under h.
func (c *recordCache) put(h *id.Hash, enc []byte) {
	s := c.shard(h)
	s.mu.Lock()
	s.put(h, enc)
	s.mu.Unlock()
}

func (s *cacheShard) put(h *id.Hash, enc []byte) {
	if len(enc) > 255 {
		return
	}
	if _, ok := s.find(h); ok {
		return
	}
	size := cacheEntryOverhead + len(enc)
	if s.w+size > len(s.ring) {
		if len(s.ring) < s.max {
			s.grow(size)
		}
		if s.w+size > len(s.ring) {
			// Wrap: what is left of the previous lap goes, and this lap
			// becomes the previous one.
			s.evictTo(s.limit)
			s.limit, s.w, s.next = s.w, 0, 0
		}
	}
	s.evictTo(s.w + size)
	copy(s.ring[s.w:], h[:])
	s.ring[s.w+id.Size] = byte(len(enc))
	copy(s.ring[s.w+cacheEntryOverhead:], enc)
	s.index(h, s.w)
	s.w += size
}

// grow doubles the ring (still in its first lap, so all of it is entries
// from 0 to w) and sizes the index for it.
func (s *cacheShard) grow(size int) {
	grown := make([]byte, min(s.max, max(2*len(s.ring), 64<<10, size)))
	copy(grown, s.ring[:s.w])
	s.ring = grown
	sets := 1
	for sets*cacheWays*(cacheEntryOverhead+cacheAvgRecord)*3/8 < len(s.ring) {
		sets *= 2
	}
	old := s.slots
	s.slots = make([]uint64, sets*cacheWays)
	for _, e := range old {
		if e != 0 {
			off := int(uint32(e))
			s.index((*id.Hash)(s.ring[off:]), off)
		}
	}
}

// evictTo drops the previous lap's entries that start before end.
func (s *cacheShard) evictTo(end int) {
	for s.next < s.limit && s.next < end {
		s.unindex((*id.Hash)(s.ring[s.next:]), s.next)
		s.next += cacheEntryOverhead + int(s.ring[s.next+id.Size])
	}
}

// stats returns the number of hits and misses so far.
func (c *recordCache) stats() (hits, misses uint64) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		hits, misses = hits+s.hits, misses+s.misses
		s.mu.Unlock()
	}
	return hits, misses
}

// fill describes how full the cache is: records, ring bytes used and the
// ring bytes allowed.
func (c *recordCache) fill() string {
	var n, used, total int
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for _, e := range s.slots {
			if e != 0 {
				n++
			}
		}
		used += max(s.w, s.limit)
		total += s.max
		s.mu.Unlock()
	}
	return fmt.Sprintf("%d records, %d of %d ring bytes", n, used, total)
}
