package replica

import (
	"errors"
	"slices"
	"time"

	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/id"
)

// Announcing what a crash left unannounced. Blobs.Put stores a blob, then
// publishes it; a crash between the two leaves the blob stored here and
// announced nowhere, and storing it again is the only thing that would
// announce it. So Start runs announceStored once: it publishes every
// complete local blob this node has not published (blob_published by this
// node, as the replica's n/b/ records say), in the background, without
// delaying start-up. That includes blobs fetched from peers and never
// announced by this node: it holds them complete and serves them, and
// each is announced once.

const (
	// announceBatch is how many blob ids one step of the pass reads.
	announceBatch = 256
	// announceQueueShare is the most operations the pass lets wait in the
	// proposer's queue (one vertex's worth, 1/16 of the default queue):
	// the pass must not crowd out transitions and uploads.
	announceQueueShare = dag.MaxOps
	// defaultAnnounceRetry is how long the pass waits when the proposer's
	// queue is full (or holds its share) before trying again.
	defaultAnnounceRetry = time.Second
)

// announceStored publishes every complete local blob this node has not
// published, a batch of ids at a time, keeping at most its share of the
// proposer's queue and waiting while the queue is full. It returns when
// every stored blob was seen or the replica closes.
func (r *Replica) announceStored() {
	var after *id.Blob
	announced := 0
	for {
		ids, err := r.blobs.List(r.ctx, after, announceBatch)
		if err != nil {
			if r.ctx.Err() == nil {
				r.log.Warn("announce stored blobs", "err", err)
			}
			return
		}
		for _, b := range ids {
			done, open := r.announceStoredBlob(b)
			if !open {
				return
			}
			if done {
				announced++
			}
		}
		if len(ids) < announceBatch {
			break
		}
		after = &ids[len(ids)-1]
	}
	if announced > 0 {
		r.log.Info("stored blobs announced", "count", announced)
	}
}

// announceStoredBlob publishes b if it is complete here and this node has
// not published it, retrying while the proposer's queue is full. done
// says it was queued now; open is false once the replica closes.
func (r *Replica) announceStoredBlob(b id.Blob) (done, open bool) {
	for {
		if r.ctx.Err() != nil {
			return false, false
		}
		info, err := r.blobs.Stat(r.ctx, b)
		if err != nil || !info.Complete {
			return false, true // deleted meanwhile, or still being fetched
		}
		if mine, err := r.publishedBy(b, r.self); err != nil || mine {
			if err != nil {
				r.log.Warn("announce stored blob", "blob", b.String(), "err", err)
			}
			return false, true
		}
		if r.prop == nil || r.prop.Queued() < announceQueueShare {
			err := r.publishBlob(info)
			if err == nil {
				return true, true
			}
			if !errors.Is(err, dag.ErrQueueFull) {
				r.log.Warn("announce stored blob", "blob", b.String(), "err", err)
				return false, true
			}
		}
		if !r.pause(r.announceRetry) {
			return false, false
		}
	}
}

// publishedBy reports whether a blob_published of b by node n is in the
// DAG.
func (r *Replica) publishedBy(b id.Blob, n id.Node) (bool, error) {
	m, _, err := r.blobMetaOf(b)
	if err != nil || m == nil {
		return false, err
	}
	_, found := slices.BinarySearchFunc(m.Publishers, n, cmpNode)
	return found, nil
}

// pause waits for d; false if the replica closed meanwhile.
func (r *Replica) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
