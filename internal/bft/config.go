package bft

import (
	"errors"
	"fmt"
	"time"
)

// Timeouts are the round timeouts: a step's timeout in round r is its base
// plus r·Delta, at most Max. Growing timeouts are what makes the algorithm
// live once the network is synchronous again: eventually a round lasts
// longer than the honest members need to agree.
type Timeouts struct {
	Propose   time.Duration // waiting for the round's proposal; default 500ms
	Prevote   time.Duration // waiting for prevotes past a quorum of any; default 250ms
	Precommit time.Duration // waiting for precommits past a quorum of any; default 250ms
	Delta     time.Duration // added per round; default 250ms
	Max       time.Duration // cap of any timeout; default 10s
}

// DefaultTimeouts are the timeouts of a zero Timeouts.
var DefaultTimeouts = Timeouts{
	Propose:   500 * time.Millisecond,
	Prevote:   250 * time.Millisecond,
	Precommit: 250 * time.Millisecond,
	Delta:     250 * time.Millisecond,
	Max:       10 * time.Second,
}

func (t Timeouts) withDefaults() Timeouts {
	d := DefaultTimeouts
	if t.Propose > 0 {
		d.Propose = t.Propose
	}
	if t.Prevote > 0 {
		d.Prevote = t.Prevote
	}
	if t.Precommit > 0 {
		d.Precommit = t.Precommit
	}
	if t.Delta > 0 {
		d.Delta = t.Delta
	}
	if t.Max > 0 {
		d.Max = t.Max
	}
	return d
}

// after returns the timeout of step s in round r.
func (t Timeouts) after(s Step, r int) time.Duration {
	base := t.Propose
	switch s {
	case StepPrevote:
		base = t.Prevote
	case StepPrecommit:
		base = t.Precommit
	}
	d := base + time.Duration(r)*t.Delta
	if d > t.Max || d < base { // d < base: overflow
		d = t.Max
	}
	return d
}

// DefaultWindow is the number of rounds above the current one whose votes
// a machine keeps (Config.Window).
const DefaultWindow = 8

// maxFuture bounds the messages of the next height kept until the machine
// gets there.
const maxFuture = 1024

// Config is a machine's committee and parameters.
type Config struct {
	// Weights are the members' voting weights, indexed by member; every
	// weight is positive.
	Weights []uint64
	// Threshold is the weight of a quorum: more than two thirds of the
	// total (consensus.QuorumThreshold).
	Threshold uint64
	// Self is this member's index, or −1 for an observer that follows the
	// votes but never proposes or votes.
	Self int
	// Proposer returns the member that proposes in round r of height h.
	// Nil: members in turn, members[(h−1+r) mod n].
	Proposer func(h uint64, r int) int
	// Timeouts are the round timeouts; zero fields take DefaultTimeouts.
	Timeouts Timeouts
	// Window is how many rounds above the current one the machine keeps
	// votes of (votes further ahead only count towards skipping to a
	// round); 0 means DefaultWindow.
	Window int
}

// ErrConfig reports an unusable Config.
var ErrConfig = errors.New("bft: invalid config")

func (c *Config) validate() error {
	n := len(c.Weights)
	if n == 0 {
		return fmt.Errorf("%w: no members", ErrConfig)
	}
	var total uint64
	for i, w := range c.Weights {
		if w == 0 || w > 1<<32 {
			return fmt.Errorf("%w: member %d has weight %d", ErrConfig, i, w)
		}
		total += w
	}
	if c.Threshold <= total*2/3 || c.Threshold > total {
		return fmt.Errorf("%w: threshold %d not in (2/3·%d, %d]", ErrConfig, c.Threshold, total, total)
	}
	if c.Self < -1 || c.Self >= n {
		return fmt.Errorf("%w: self %d of %d members", ErrConfig, c.Self, n)
	}
	if c.Window < 0 {
		return fmt.Errorf("%w: window %d", ErrConfig, c.Window)
	}
	return nil
}
