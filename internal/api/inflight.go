package api

import (
	"fmt"
	"net/http"
	"sync"

	"github.com/onvm-network/onvm/client/wire"
	"github.com/onvm-network/onvm/internal/auth"
)

// inflight bounds the requests of one kind (executions, deploys) each
// project has in flight at once, so that one credential holder cannot keep
// every core of the node busy. The per-project request rate
// (rpc_auth.rate_limit_per_minute) bounds how often; this bounds how many
// at a time, whatever each costs. A zero max means no bound.
type inflight struct {
	what string // "executions", "deploys": for the refusal's message
	max  int
	mu   sync.Mutex
	n    map[string]int
}

func newInflight(what string, max int) *inflight {
	return &inflight{what: what, max: max, n: make(map[string]int)}
}

// acquire takes a slot for the request's project; release gives it back.
// Without authentication (no verified project) nothing is bounded.
func (s *Server) acquire(l *inflight, r *http.Request) (release func(), err error) {
	project := r.Header.Get(auth.HeaderProjectID)
	if s.opts.Auth.Verifier == nil || l.max <= 0 || project == "" {
		return func() {}, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[project] >= l.max {
		return nil, &requestError{status: http.StatusTooManyRequests, code: wire.CodeTooManyInFlight,
			msg: fmt.Sprintf("project %s has %d %s in flight, the most this node allows; retry when one ends", project, l.max, l.what)}
	}
	l.n[project]++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.n[project]--; l.n[project] == 0 {
			delete(l.n, project)
		}
	}, nil
}
