package job

import (
	"sync"

	"github.com/onvm-network/onvm/internal/id"
)

// changeLogSize is how many job changes Changes remembers.
const changeLogSize = 1024

// changeLog numbers the changes of job records (created, started, retried,
// finished, imported) and remembers the ids of the last changeLogSize of
// them, so a reader that polls it (the API's event stream) learns which
// jobs changed without scanning any. It costs one slot write per change.
type changeLog struct {
	mu   sync.Mutex
	seq  uint64 // changes so far
	ring [changeLogSize]id.Job
}

func (c *changeLog) add(j id.Job) {
	c.mu.Lock()
	c.ring[c.seq%changeLogSize] = j
	c.seq++
	c.mu.Unlock()
}

// since returns the jobs changed after change number after (0: since the
// service started), oldest first, each once, at most max of them; next is
// the number to pass next time. lost reports that changes were left out:
// more than changeLogSize happened since after, or more than max.
func (c *changeLog) since(after uint64, max int) (ids []id.Job, next uint64, lost bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if after > c.seq {
		after = c.seq // a number from an earlier run
	}
	from := after
	if c.seq-from > changeLogSize {
		from, lost = c.seq-changeLogSize, true
	}
	seen := map[id.Job]bool{}
	for n := from; n < c.seq; n++ {
		j := c.ring[n%changeLogSize]
		if seen[j] {
			continue
		}
		if len(ids) >= max {
			return ids, c.seq, true
		}
		seen[j] = true
		ids = append(ids, j)
	}
	return ids, c.seq, lost
}

// Changes returns the jobs whose records changed after change number
// after, at most max of them, and the number to continue from; lost
// reports that some changes were left out, so a reader that keeps a list
// should read it again. Only this node's records count: a job forwarded to
// its home shows up here when its terminal record replicates.
func (s *Service) Changes(after uint64, max int) (ids []id.Job, next uint64, lost bool) {
	return s.watch.changes.since(after, max)
}
