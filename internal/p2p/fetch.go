package p2p

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/id"
)

// fetchCall is one fetch in progress; concurrent Fetches of a blob share
// it.
type fetchCall struct {
	done chan struct{}
	info blob.Info
	err  error
}

// Fetch makes blob b complete in the local store, fetching it from
// providers: the hints, the provider book, and the DHT. It gets the
// outboard from one provider (the store verifies it against b), then the
// missing chunk groups from several providers in parallel, each group
// verified before it is written. A provider that sends a wrong byte is
// dropped from the fetch and penalised; one that disconnects is dropped and
// its work handed to the others. If no provider is left, Fetch fails with
// ErrNoProviders and keeps what it has: the next Fetch resumes.
func (s *BlobService) Fetch(ctx context.Context, b id.Blob, hints ...peer.ID) (blob.Info, error) {
	if info, err := s.store.Stat(ctx, b); err == nil && info.Complete {
		return info, nil
	}
	s.mu.Lock()
	if c := s.inflight[b]; c != nil {
		s.mu.Unlock()
		select {
		case <-c.done:
			return c.info, c.err
		case <-ctx.Done():
			return blob.Info{}, fmt.Errorf("fetch blob %s: %w", b, ctx.Err())
		}
	}
	c := &fetchCall{done: make(chan struct{})}
	s.inflight[b] = c
	s.mu.Unlock()
	c.info, c.err = s.fetch(ctx, b, hints)
	s.mu.Lock()
	delete(s.inflight, b)
	s.mu.Unlock()
	close(c.done)
	return c.info, c.err
}

// candidates returns usable providers of b: hints first, then the book,
// then (if still short) the DHT; never self, never banned or excluded.
func (s *BlobService) candidates(ctx context.Context, b id.Blob, hints []peer.ID, exclude map[peer.ID]bool) []peer.ID {
	var out []peer.ID
	add := func(p peer.ID) {
		if p != "" && p != s.h.ID() && !exclude[p] && !s.scores.Banned(p) && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, p := range hints {
		add(p)
	}
	for _, p := range s.providers.Get(id.Hash(b)) {
		add(p)
	}
	if len(out) < s.cfg.MaxProviders && s.disc != nil && s.disc.kad != nil {
		fctx, cancel := context.WithTimeout(ctx, s.cfg.FindTimeout)
		found, _ := s.disc.FindProviders(fctx, id.Hash(b), 2*s.cfg.MaxProviders)
		cancel()
		for _, ai := range found {
			s.h.Peerstore().AddAddrs(ai.ID, ai.Addrs, time.Hour)
			s.providers.Add(id.Hash(b), ai.ID)
			add(ai.ID)
		}
	}
	return out
}

func (s *BlobService) fetch(ctx context.Context, b id.Blob, hints []peer.ID) (blob.Info, error) {
	dropped := make(map[peer.ID]bool)
	providers := s.candidates(ctx, b, hints, dropped)
	if len(providers) == 0 {
		return blob.Info{}, fmt.Errorf("fetch blob %s: %w", b, ErrNoProviders)
	}
	imp, size, err := s.begin(ctx, b, providers, dropped)
	if err != nil {
		return blob.Info{}, err
	}
	committed := false
	defer func() {
		if !committed {
			_ = imp.Abort() // keeps verified groups for the next Fetch
		}
	}()
	q := newUnitQueue(imp.Missing(), s.cfg.GroupsPerRequest, size)
	for refreshed := false; !q.empty(); {
		active := slices.DeleteFunc(providers, func(p peer.ID) bool { return dropped[p] || s.scores.Banned(p) })
		if len(active) == 0 {
			if refreshed {
				return blob.Info{}, fmt.Errorf("fetch blob %s: %d groups missing: %w", b, q.remaining(), ErrNoProviders)
			}
			refreshed = true
			providers = s.candidates(ctx, b, hints, dropped)
			continue
		}
		providers = active
		s.round(ctx, b, imp, q, active[:min(len(active), s.cfg.MaxProviders)], dropped)
		if err := ctx.Err(); err != nil {
			return blob.Info{}, fmt.Errorf("fetch blob %s: %w", b, err)
		}
	}
	info, err := imp.Commit(ctx)
	if err != nil {
		return blob.Info{}, fmt.Errorf("fetch blob %s: %w", b, err)
	}
	committed = true
	for _, p := range providers {
		if !dropped[p] {
			s.providers.Add(id.Hash(b), p)
		}
	}
	return info, nil
}

// begin gets a verified outboard from the first provider able to give one
// and starts (or resumes) the import.
func (s *BlobService) begin(ctx context.Context, b id.Blob, providers []peer.ID, dropped map[peer.ID]bool) (*blob.Import, int64, error) {
	last := ErrNoProviders
	var unreachable error // a provider that may hold it could not be asked
	for _, p := range providers {
		size, mime, ob, err := s.requestInfo(ctx, p, b)
		if err != nil {
			if errors.Is(err, ErrProtocol) || errors.Is(err, ErrTooLarge) {
				s.scores.Penalize(p, PenaltyProtocol)
			}
			if errors.Is(err, ErrUnavailable) {
				unreachable = err
			}
			dropped[p] = true
			last = err
			continue
		}
		imp, err := s.store.BeginImport(ctx, b, size, mime, ob)
		if errors.Is(err, blob.ErrCorrupt) {
			s.log.Warn("peer sent a bad outboard", "peer", p.String(), "blob", b.String())
			s.scores.Penalize(p, PenaltyBadBlobData)
			dropped[p] = true
			last = err
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("fetch blob %s: %w", b, err)
		}
		return imp, size, nil
	}
	if unreachable != nil {
		last = unreachable
	}
	return nil, 0, fmt.Errorf("fetch blob %s: outboard: %w", b, last)
}

// round runs StreamsPerProvider workers per provider until the queue is
// empty or every worker has stopped. A worker stops when its provider
// fails; the unit it held goes back to the queue.
func (s *BlobService) round(ctx context.Context, b id.Blob, imp *blob.Import, q *unitQueue, providers []peer.ID, dropped map[peer.ID]bool) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, p := range providers {
		for range s.cfg.StreamsPerProvider {
			wg.Go(func() {
				err := s.worker(ctx, p, b, imp, q)
				if err == nil || ctx.Err() != nil {
					return
				}
				mu.Lock()
				dropped[p] = true
				mu.Unlock()
				if errors.Is(err, blob.ErrCorrupt) {
					s.log.Warn("peer sent bad blob data", "peer", p.String(), "blob", b.String(), "err", err)
					s.scores.Penalize(p, PenaltyBadBlobData)
					s.providers.Remove(id.Hash(b), p)
					// Its disk may be damaged (it serves peers unverified).
					if bad := (*badGroupError)(nil); errors.As(err, &bad) {
						s.report(ctx, p, b, bad.group)
					}
				} else if errors.Is(err, ErrProtocol) || errors.Is(err, ErrTooLarge) {
					s.scores.Penalize(p, PenaltyProtocol)
				}
			})
		}
	}
	wg.Wait()
}

// pipelineDepth is how many requests a worker keeps in flight on its
// stream: the provider reads the next range while this side verifies and
// writes the previous one.
const pipelineDepth = 2

// worker fetches units from one provider over one stream, pipelined. On
// failure every unit it holds goes back to the queue.
func (s *BlobService) worker(ctx context.Context, p peer.ID, b id.Blob, imp *blob.Import, q *unitQueue) error {
	var st network.Stream
	var r *bufio.Reader
	var w *bufio.Writer
	var buf []byte
	var inflight []unit
	fail := func(err error) error {
		for _, u := range inflight {
			q.put(u)
		}
		if st != nil {
			_ = st.Reset()
			st = nil
		}
		return err
	}
	defer func() {
		if st != nil {
			_ = st.Close()
		}
	}()
	for {
		for len(inflight) < pipelineDepth {
			u, ok := q.take()
			if !ok {
				break
			}
			inflight = append(inflight, u)
			if st == nil {
				var err error
				if st, err = s.h.NewStream(ctx, p, BlobProtocol); err != nil {
					return fail(fmt.Errorf("open blob stream to %s: %w", p, err))
				}
				// A small read buffer: it holds a response's header, and the
				// groups then go from the stream straight into buf.
				r, w = bufio.NewReaderSize(st, 4<<10), bufio.NewWriterSize(st, 256)
			}
			_ = st.SetWriteDeadline(time.Now().Add(s.cfg.RequestTimeout))
			err := writeMsg(w, &blobReq{Op: blobOpGroups, Blob: b, First: uint64(u.first), Count: uint32(u.count)})
			if err == nil {
				err = w.Flush()
			}
			if err != nil {
				return fail(err)
			}
		}
		if len(inflight) == 0 {
			return nil
		}
		u := inflight[0]
		if err := s.receiveUnit(st, r, b, u, imp, &buf); err != nil {
			return fail(err)
		}
		inflight = inflight[1:]
		q.done(u)
	}
}

// badGroupError is the failure of a unit whose group did not verify.
type badGroupError struct {
	group int64
	err   error
}

func (e *badGroupError) Error() string { return e.err.Error() }
func (e *badGroupError) Unwrap() error { return e.err }

// report tells p that group g of b which it sent did not verify, so that
// it checks its own copy (blobOpReport). Best effort, and bounded.
func (s *BlobService) report(ctx context.Context, p peer.ID, b id.Blob, g int64) {
	ctx, cancel := context.WithTimeout(ctx, min(s.cfg.RequestTimeout, reportTimeout))
	defer cancel()
	st, err := s.h.NewStream(ctx, p, BlobProtocol)
	if err != nil {
		return
	}
	defer st.Close()
	dl, _ := ctx.Deadline()
	_ = st.SetDeadline(dl)
	if err := writeMsg(st, &blobReq{Op: blobOpReport, Blob: b, First: uint64(g), Count: 1}); err != nil {
		_ = st.Reset()
		return
	}
	var resp blobResp // the answer comes once p has checked the group
	if err := readMsg(bufio.NewReaderSize(st, 64), maxBlobHeader, &resp); err != nil {
		_ = st.Reset()
	}
}

// reportTimeout bounds a report of a bad group.
const reportTimeout = 5 * time.Second

// receiveUnit reads the response to a request for unit u and stores its
// groups as they arrive, each hashed and written while it is still in the
// CPU cache (reading the whole response first, then hashing and writing
// it, re-read every byte from memory twice). A group that does not verify
// ends it with a badGroupError; the groups before it stay stored.
func (s *BlobService) receiveUnit(st network.Stream, r *bufio.Reader, b id.Blob, u unit, imp *blob.Import, buf *[]byte) error {
	_ = st.SetReadDeadline(time.Now().Add(s.cfg.RequestTimeout))
	var resp blobResp
	if err := readMsg(r, maxBlobHeader, &resp); err != nil {
		return err
	}
	if resp.Status != blobOK {
		return fmt.Errorf("%w: blob %s groups %d+%d: status %d", ErrRemote, b, u.first, u.count, resp.Status)
	}
	want := groupsLen(u.size, u.first, u.count)
	if resp.Size != u.size || resp.Length != uint64(want) {
		return fmt.Errorf("%w: blob %s: %d bytes of a %d-byte blob, want %d of %d", ErrProtocol, b, resp.Length, resp.Size, want, u.size)
	}
	if cap(*buf) < blob.GroupSize {
		*buf = make([]byte, blob.GroupSize)
	}
	for i := u.first; i < u.first+u.count; i++ {
		g := (*buf)[:groupLen(u.size, i)]
		if _, err := io.ReadFull(r, g); err != nil {
			return err
		}
		if err := imp.WriteGroup(int(i), g); err != nil {
			if errors.Is(err, blob.ErrCorrupt) {
				return &badGroupError{group: i, err: err}
			}
			return err
		}
	}
	return nil
}

// requestInfo asks p for b's size, MIME type and outboard, bounded by the
// size the outboard must have.
func (s *BlobService) requestInfo(ctx context.Context, p peer.ID, b id.Blob) (int64, string, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	st, err := s.h.NewStream(ctx, p, BlobProtocol)
	if err != nil {
		return 0, "", nil, fmt.Errorf("blob info from %s: %w: %w", p, ErrUnavailable, err)
	}
	defer st.Close()
	dl, _ := ctx.Deadline()
	_ = st.SetDeadline(dl)
	if err := writeMsg(st, &blobReq{Op: blobOpInfo, Blob: b}); err != nil {
		_ = st.Reset()
		return 0, "", nil, err
	}
	r := bufio.NewReader(st)
	var resp blobResp
	if err := readMsg(r, maxBlobHeader, &resp); err != nil {
		_ = st.Reset()
		return 0, "", nil, err
	}
	switch {
	case resp.Status != blobOK:
		return 0, "", nil, fmt.Errorf("%w: blob %s at %s: status %d", ErrRemote, b, p, resp.Status)
	case resp.Size < 0 || resp.Size > s.cfg.MaxSize:
		return 0, "", nil, fmt.Errorf("%w: blob %s of %d bytes", ErrTooLarge, b, resp.Size)
	case resp.Length != uint64(blob.OutboardSize(resp.Size)) || len(resp.Mime) > maxBlobMime:
		return 0, "", nil, fmt.Errorf("%w: blob %s: outboard of %d bytes for size %d", ErrProtocol, b, resp.Length, resp.Size)
	}
	ob := make([]byte, resp.Length)
	if _, err := io.ReadFull(r, ob); err != nil {
		_ = st.Reset()
		return 0, "", nil, fmt.Errorf("blob info from %s: %w", p, err)
	}
	return resp.Size, resp.Mime, ob, nil
}

// unit is a run of consecutive missing groups fetched by one request.
type unit struct {
	first, count, size int64
}

// unitQueue hands out units to workers; a failed unit is put back.
type unitQueue struct {
	mu      sync.Mutex
	pending []unit
	taken   int
}

func newUnitQueue(missing []int, per int, size int64) *unitQueue {
	q := &unitQueue{}
	for i := 0; i < len(missing); {
		j := i + 1
		for j < len(missing) && j-i < per && missing[j] == missing[j-1]+1 {
			j++
		}
		q.pending = append(q.pending, unit{first: int64(missing[i]), count: int64(j - i), size: size})
		i = j
	}
	return q
}

func (q *unitQueue) take() (unit, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) == 0 {
		return unit{}, false
	}
	u := q.pending[0]
	q.pending = q.pending[1:]
	q.taken++
	return u, true
}

func (q *unitQueue) put(u unit) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = append(q.pending, u)
	q.taken--
}

func (q *unitQueue) done(unit) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.taken--
}

func (q *unitQueue) empty() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending) == 0 && q.taken == 0
}

func (q *unitQueue) remaining() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, u := range q.pending {
		n += int(u.count)
	}
	return n
}
