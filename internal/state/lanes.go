package state

import (
	"encoding/binary"
	"runtime"
	"sync"

	"github.com/onvm-network/onvm/internal/id"
)

// Hashing a batch of writes is dominated by the chains of new leaves: ~236
// sequential node hashes each at a million keys, independent of one
// another. hashTreeBatched runs independent chains side by side, sixteen
// per AVX-512 instruction stream (compress16), and on both cores when there
// are enough of them; the result is the same as hashTree's.

// lanesMin is the fewest independent jobs worth the wide path; below it
// (or without AVX-512) jobs are hashed one at a time.
const lanesMin = 2

// parallelMin is the fewest jobs in one wave worth splitting across two
// goroutines (a wave of 256 chains is ~60k node hashes, milliseconds of
// work against microseconds of goroutine handoff).
const parallelMin = 256

// parallel enables the two-goroutine split; benchmarks compare both.
var parallel = true

// hashTreeBatched computes the hash of every dirty node under n, like
// hashTree, in waves: a node's wave is one more than its highest dirty
// child's, and the nodes of a wave are independent.
func hashTreeBatched(n *tnode) {
	var waves [][]*tnode
	var visit func(n *tnode) int
	visit = func(n *tnode) int {
		if n == nil || !n.dirty || n.hashed {
			return 0
		}
		w := 0
		if !n.startKnown && n.hasKids {
			w = max(visit(n.kids[0]), visit(n.kids[1]))
		}
		if w == len(waves) {
			waves = append(waves, nil)
		}
		waves[w] = append(waves[w], n)
		return w + 1
	}
	visit(n)
	for _, wave := range waves {
		for _, n := range wave {
			if !n.startKnown && n.hasKids {
				n.setKids()
			}
		}
		hashJobs(wave)
	}
}

// hashJobs hashes nodes whose inputs are all known.
func hashJobs(jobs []*tnode) {
	if !haveLanes || len(jobs) < lanesMin {
		for _, n := range jobs {
			hashTree(n)
		}
		return
	}
	if !parallel || len(jobs) < parallelMin || runtime.GOMAXPROCS(0) < 2 {
		runLanes(jobs)
		return
	}
	var wg sync.WaitGroup
	half := len(jobs) / 2
	wg.Go(func() { runLanes(jobs[:half]) })
	runLanes(jobs[half:])
	wg.Wait()
}

// lane is one job in flight: the node, the depth d of the hash its
// message in the kernel's input computes, and whether that message is the
// first (internal(left, right) at from). Between the kernel's calls a
// chain's hash never leaves word form: its output column is copied into
// the next message's left or right half (chosen without a branch), the
// other half being the empty constant's words.
type lane struct {
	n     *tnode
	d     int
	first bool
}

// start loads n's first message into lane i of msg; it reports false if n
// needs no hashing at all.
func (l *lane) start(n *tnode, msg *[17][16]uint32, i int) bool {
	l.n = n
	if !n.startKnown {
		l.d, l.first = n.from, true
		for w := range 8 {
			msg[1+w][i] = binary.LittleEndian.Uint32(n.rec.kids[0].h[4*w:])
			msg[9+w][i] = binary.LittleEndian.Uint32(n.rec.kids[1].h[4*w:])
		}
		return true
	}
	l.d, l.first = n.from-1, false
	if l.d < n.top {
		n.h, n.hashed = n.start, true
		return false
	}
	s := bit(&n.rec.path, l.d) * 8
	for w := range 8 {
		msg[1+s+w][i] = binary.LittleEndian.Uint32(n.start[4*w:])
		msg[9-s+w][i] = emptyWords[w]
	}
	return true
}

// step takes lane i's hash from out: it writes the job's result and
// reports false when the job is done, else loads the next message.
func (l *lane) step(msg *[17][16]uint32, out *[8][16]uint32, i int) bool {
	l.first = false
	if l.d == l.n.top {
		for w := range 8 {
			binary.LittleEndian.PutUint32(l.n.h[4*w:], out[w][i])
		}
		l.n.hashed = true
		return false
	}
	l.d--
	s := bit(&l.n.rec.path, l.d) * 8
	for w := range 8 {
		msg[1+s+w][i] = out[w][i]
		msg[9-s+w][i] = emptyWords[w]
	}
	return true
}

// finish completes lane i's job one scalar hash at a time.
func (l *lane) finish(msg *[17][16]uint32, i int) {
	if l.first {
		h := nodeHash(&l.n.rec.kids[0].h, &l.n.rec.kids[1].h)
		l.n.h = chain(h, l.d, l.n.top, &l.n.rec.path)
	} else {
		var cur id.Hash
		s := bit(&l.n.rec.path, l.d) * 8
		for w := range 8 {
			binary.LittleEndian.PutUint32(cur[4*w:], msg[1+s+w][i])
		}
		l.n.h = chain(cur, l.d+1, l.n.top, &l.n.rec.path)
	}
	l.n.hashed = true
}

// words returns h as eight little-endian words.
func words(h *id.Hash) (w [8]uint32) {
	for i := range w {
		w[i] = binary.LittleEndian.Uint32(h[4*i:])
	}
	return w
}

// emptyWords is EmptyRoot as words.
var emptyWords = words(&empty)

// runLanes hashes jobs sixteen lanes at a time, refilling a lane as soon as
// its job is done, and finishes the last one alone.
func runLanes(jobs []*tnode) {
	var (
		msg    [17][16]uint32
		out    [8][16]uint32
		lanes  [16]lane
		busy   [16]bool
		active int
	)
	next := 0
	fill := func(i int) {
		for next < len(jobs) {
			n := jobs[next]
			next++
			if lanes[i].start(n, &msg, i) {
				busy[i] = true
				active++
				return
			}
		}
		busy[i] = false
	}
	for i := range lanes {
		fill(i)
	}
	for i := range msg[0] {
		msg[0][i] = tagNode
	}
	for active >= lanesMin || (active > 0 && next < len(jobs)) {
		compress16(&msg, &out)
		for i := range lanes {
			if busy[i] && !lanes[i].step(&msg, &out, i) {
				active--
				fill(i)
			}
		}
	}
	for i := range lanes {
		if busy[i] {
			lanes[i].finish(&msg, i)
		}
	}
}
