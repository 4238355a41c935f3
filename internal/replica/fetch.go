package replica

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/p2p"
)

// backgroundFetchTimeout bounds one background fetch.
const backgroundFetchTimeout = 30 * time.Minute

// fetcher fetches blobs from providers: in the background (full sync
// mode, a bounded worker pool over a bounded queue) and on demand for a
// reader that wants a blob this node lacks. On-demand fetches are the
// amplification risk (one HTTP request for an unknown id costs DHT
// queries): they are deduplicated per blob, limited in rate and in number,
// and a blob nobody could supply is answered from a negative cache for a
// while.
type fetcher struct {
	r     *Replica
	bg    *workQueue[id.Blob]
	lim   *rate.Limiter
	slots chan struct{}

	mu      sync.Mutex
	running map[id.Blob]*fetchCall
	missing *lru.Cache[id.Blob, time.Time] // no provider, when
	seen    chan struct{}                  // closed and replaced at each announcement of a blob
}

type fetchCall struct {
	done chan struct{}
	err  error
}

func newFetcher(r *Replica) *fetcher {
	missing, _ := lru.New[id.Blob, time.Time](4096)
	return &fetcher{
		r: r, bg: newWorkQueue[id.Blob](defaultFetchQueue),
		lim:     rate.NewLimiter(rate.Limit(r.opts.FetchRate), 2*int(r.opts.FetchRate)),
		slots:   make(chan struct{}, r.opts.MaxOnDemand),
		running: make(map[id.Blob]*fetchCall), missing: missing, seen: make(chan struct{}),
	}
}

func (f *fetcher) start() {
	for range f.r.opts.FetchWorkers {
		f.r.spawn(f.worker)
	}
}

// background queues b for a background fetch; a full queue leaves it to
// the next sweep.
func (f *fetcher) background(b id.Blob) { f.bg.add(b) }

func (f *fetcher) worker() {
	r := f.r
	for {
		b, ok := f.bg.take()
		if !ok {
			select {
			case <-r.ctx.Done():
				return
			case <-f.bg.ready:
				continue
			}
		}
		if info, err := r.blobs.Stat(r.ctx, b); err == nil && info.Complete {
			continue
		}
		ctx, cancel := context.WithTimeout(r.ctx, backgroundFetchTimeout)
		err := f.fetch(ctx, b, "background")
		cancel()
		if err != nil && r.ctx.Err() == nil {
			r.log.Debug("background fetch failed", "blob", b.String(), "err", err)
		}
	}
}

// fetch makes b complete locally from its providers: the caller's hints
// and the publishers blob_published named, then the provider book and the
// DHT. Every group is verified against b before it is stored.
func (f *fetcher) fetch(ctx context.Context, b id.Blob, mode string, hints ...id.Node) error {
	r := f.r
	if r.net == nil {
		return fmt.Errorf("fetch blob %s: %w", b, p2p.ErrUnavailable)
	}
	if m, ok, _ := r.blobMetaOf(b); ok {
		hints = append(hints, m.Publishers...)
	}
	var peers []peer.ID
	for _, n := range hints {
		if n == r.self {
			continue
		}
		if p, err := p2p.PeerOf(n); err == nil {
			peers = append(peers, p)
		}
	}
	var err error
	if mode == "on_demand" {
		// A reader learns in seconds that no provider answers, instead of
		// waiting for dials and requests to time out one by one.
		err = f.reachAny(ctx, b, append(peers, r.net.Providers().Get(id.Hash(b))...))
	}
	if err == nil {
		_, err = r.net.FetchBlob(ctx, b, peers...)
	}
	switch {
	case err == nil:
		r.m.fetches.WithLabelValues(mode, "ok").Inc()
		r.provide(id.Hash(b), false)
	case errors.Is(err, p2p.ErrNoProviders):
		r.m.fetches.WithLabelValues(mode, "no_providers").Inc()
	case errors.Is(err, p2p.ErrUnavailable):
		r.m.fetches.WithLabelValues(mode, "unreachable").Inc()
	default:
		r.m.fetches.WithLabelValues(mode, "failed").Inc()
	}
	return err
}

// maxReachProbes bounds the known providers reachAny pings; reachWait is
// how long it waits for an answer, so that a reader has its 503 within 2 s.
const (
	maxReachProbes = 8
	reachWait      = 1500 * time.Millisecond
)

// reachAny returns nil as soon as one of the known providers answers a
// ping (p2p.Network.Reach) within reachWait, or when none is known (the
// DHT may know one). The connected ones are asked first. None answering
// is an error wrapping p2p.ErrUnavailable.
func (f *fetcher) reachAny(ctx context.Context, b id.Blob, peers []peer.ID) error {
	h := f.r.net.Host()
	slices.SortStableFunc(peers, func(a, b peer.ID) int {
		ca, cb := h.Network().Connectedness(a) == network.Connected, h.Network().Connectedness(b) == network.Connected
		switch {
		case ca == cb:
			return 0
		case ca:
			return -1
		}
		return 1
	})
	var nodes []id.Node
	for _, p := range peers {
		if n, err := p2p.NodeOf(p); err == nil && n != f.r.self && !slices.Contains(nodes, n) && len(nodes) < maxReachProbes {
			nodes = append(nodes, n)
		}
	}
	if len(nodes) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(nodes))
	for _, n := range nodes {
		go func() { errs <- f.r.net.Reach(ctx, n, reachWait) }()
	}
	var all []error
	for range nodes {
		err := <-errs
		if err == nil {
			return nil
		}
		all = append(all, err)
	}
	return fmt.Errorf("fetch blob %s: no provider answered: %w", b, errors.Join(all...))
}

// onDemand makes b complete locally for a reader, waiting at most
// FetchWait (and ctx); a blob nobody announced or provides is waited for,
// at most DefaultMissWait more, while the node asks its peers. The fetch
// itself runs under the replica's lifetime, so a reader that gives up
// does not waste the bytes already verified.
func (f *fetcher) onDemand(ctx context.Context, b id.Blob) error {
	_, announced, _ := f.r.blobMetaOf(b)
	err := f.onDemandOnce(ctx, b)
	if announced || !errors.Is(err, p2p.ErrNoProviders) || errors.Is(err, errRemembered) {
		return err
	}
	// Nobody provides it, and nobody announced it yet: a peer may have
	// stored it a moment ago. Ask the peers, and fetch it if its
	// announcement arrives within DefaultMissWait.
	if !f.awaitAnnounced(ctx, b) {
		return err
	}
	return f.onDemandOnce(ctx, b)
}

// errRemembered marks a 404 answered from the negative cache: an earlier
// request already waited for the blob's announcement.
var errRemembered = errors.New("no provider a moment ago")

// awaitAnnounced waits, at most DefaultMissWait, for a blob_published of
// b while the node asks its peers (askAround); true once one arrived (and
// b left the negative cache).
func (f *fetcher) awaitAnnounced(ctx context.Context, b id.Blob) bool {
	t := time.NewTimer(DefaultMissWait)
	defer t.Stop()
	for {
		f.mu.Lock()
		ch := f.seen
		f.mu.Unlock()
		if _, ok, err := f.r.blobMetaOf(b); err == nil && ok {
			f.mu.Lock()
			f.missing.Remove(b) // a fetch that ended after the announcement put it back
			f.mu.Unlock()
			return true
		}
		f.r.askAround()
		select {
		case <-ch:
		case <-t.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// onDemandOnce is one on-demand fetch of b, shared with concurrent
// readers.
func (f *fetcher) onDemandOnce(ctx context.Context, b id.Blob) error {
	notFound := func(cause error) error {
		return fmt.Errorf("get blob %s: %w: %w", b, blob.ErrNotFound, cause)
	}
	f.mu.Lock()
	if at, ok := f.missing.Get(b); ok && time.Since(at) < negativeTTL {
		f.mu.Unlock()
		return notFound(fmt.Errorf("%w: %w", errRemembered, p2p.ErrNoProviders))
	}
	c := f.running[b]
	if c == nil {
		if !f.lim.Allow() {
			f.mu.Unlock()
			f.r.m.fetches.WithLabelValues("on_demand", "limited").Inc()
			return fmt.Errorf("get blob %s: %w", b, ErrFetchLimited)
		}
		select {
		case f.slots <- struct{}{}:
		default:
			f.mu.Unlock()
			f.r.m.fetches.WithLabelValues("on_demand", "limited").Inc()
			return fmt.Errorf("get blob %s: %w", b, ErrFetchLimited)
		}
		c = &fetchCall{done: make(chan struct{})}
		f.running[b] = c
		started := f.r.spawn(func() {
			err := f.fetch(f.r.ctx, b, "on_demand")
			f.mu.Lock()
			delete(f.running, b)
			if errors.Is(err, p2p.ErrNoProviders) {
				f.missing.Add(b, time.Now())
			}
			f.mu.Unlock()
			<-f.slots
			c.err = err
			close(c.done)
		})
		if !started {
			delete(f.running, b)
			<-f.slots
			f.mu.Unlock()
			return fmt.Errorf("get blob %s: %w", b, blob.ErrClosed)
		}
	}
	f.mu.Unlock()
	wait := time.NewTimer(f.r.opts.FetchWait)
	defer wait.Stop()
	select {
	case <-c.done:
		switch {
		case errors.Is(c.err, p2p.ErrNoProviders):
			return notFound(c.err)
		case errors.Is(c.err, p2p.ErrUnavailable):
			return fmt.Errorf("get blob %s: %w: %w", b, ErrProvidersUnreachable, c.err)
		}
		return c.err
	case <-wait.C:
		return fmt.Errorf("get blob %s: %w", b, ErrFetchPending)
	case <-ctx.Done():
		return fmt.Errorf("get blob %s: %w", b, ctx.Err())
	}
}

// forget drops b from the negative cache and wakes readers waiting for an
// announcement: someone announced it.
func (f *fetcher) forget(b id.Blob) {
	f.mu.Lock()
	f.missing.Remove(b)
	close(f.seen)
	f.seen = make(chan struct{})
	f.mu.Unlock()
}

// provide announces in the background that this node holds h.
func (r *Replica) provide(h id.Hash, program bool) {
	if r.net == nil {
		return
	}
	r.provides.add(provideItem{h, program})
}

type provideItem struct {
	h       id.Hash
	program bool
}

// provideLoop publishes provider records one at a time: a DHT provide can
// take seconds, and nothing waits for it.
func (r *Replica) provideLoop() {
	for {
		it, ok := r.provides.take()
		if !ok {
			select {
			case <-r.ctx.Done():
				return
			case <-r.provides.ready:
				continue
			}
		}
		ctx, cancel := context.WithTimeout(r.ctx, time.Minute)
		var err error
		if it.program {
			err = r.net.Provide(ctx, nil, []id.Program{id.Program(it.h)})
		} else {
			err = r.net.Provide(ctx, []id.Blob{id.Blob(it.h)}, nil)
		}
		cancel()
		if err != nil && r.ctx.Err() == nil {
			r.log.Debug("provide failed", "blob", it.h.String(), "err", err)
		}
	}
}
