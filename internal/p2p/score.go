package p2p

import (
	"math"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/onvm-network/onvm/internal/id"
)

// Penalties for misbehaviour, in score points. A peer's score is minus its
// decayed penalties; at BanScore or below the services refuse it.
const (
	PenaltyInvalidVertex = 10 // a vertex that failed validation, or an operation its handler refused
	PenaltyBadBlobData   = 50 // a blob group or outboard that did not verify
	PenaltyProtocol      = 20 // a malformed or oversize protocol message
	PenaltyRateLimit     = 1  // a request over the rate limit
	BanScore             = -100
	penaltyHalfLife      = 10 * time.Minute
	maxScoredPeers       = 4096
)

// Scores keeps each peer's application-level penalties: evidence of bad
// behaviour seen by the DAG, sync and blob services. Penalties halve every
// ten minutes. Gossipsub reads Score as its application-specific score, so
// a peer that sends invalid data loses its mesh slots and, below BanScore,
// every service.
type Scores struct {
	mu  sync.Mutex
	m   map[peer.ID]*penalty
	now func() time.Time
}

type penalty struct {
	points float64
	at     time.Time
}

// NewScores returns an empty score book.
func NewScores() *Scores { return &Scores{m: make(map[peer.ID]*penalty), now: time.Now} }

func (s *Scores) decayed(p *penalty, now time.Time) float64 {
	return p.points * math.Exp2(-now.Sub(p.at).Seconds()/penaltyHalfLife.Seconds())
}

// Penalize adds points of penalty to p.
// BlameAuthor penalises the peer of a vertex author whose operation a
// handler refused (dag.Config.OnInvalidOp): it signed the operation, so it
// answers for it whoever relayed the vertex.
func (s *Scores) BlameAuthor(author id.Node, _ string, _ error) {
	if p, err := PeerOf(author); err == nil {
		s.Penalize(p, PenaltyInvalidVertex)
	}
}

func (s *Scores) Penalize(p peer.ID, points float64) {
	if s == nil || p == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	e := s.m[p]
	if e == nil {
		if len(s.m) >= maxScoredPeers {
			s.prune(now)
		}
		e = &penalty{}
		s.m[p] = e
	}
	e.points = s.decayed(e, now) + points
	e.at = now
}

// prune forgets peers whose penalty has decayed to almost nothing, and if
// that is not enough, the least penalised half.
func (s *Scores) prune(now time.Time) {
	for p, e := range s.m {
		if s.decayed(e, now) < 0.5 {
			delete(s.m, p)
		}
	}
	if len(s.m) < maxScoredPeers {
		return
	}
	var total float64
	for _, e := range s.m {
		total += s.decayed(e, now)
	}
	mean := total / float64(len(s.m))
	for p, e := range s.m {
		if s.decayed(e, now) <= mean {
			delete(s.m, p)
		}
	}
}

// Score returns p's application score: 0 for a well-behaved peer, negative
// after penalties.
func (s *Scores) Score(p peer.ID) float64 {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.m[p]
	if e == nil {
		return 0
	}
	return -s.decayed(e, s.now())
}

// Banned reports whether p's score is at or below BanScore.
func (s *Scores) Banned(p peer.ID) bool { return s.Score(p) <= BanScore }
