package p2p

import (
	"bufio"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"

	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/dagtest"
)

// TestSyncAddFailureEndsSession has a server that sends one batch and then
// stalls, and a client whose DAG fails to add that batch (a transient
// Check error). The session must end at once with the error, not hold one
// of the syncer's workers until the stalled read times out.
func TestSyncAddFailureEndsSession(t *testing.T) {
	mn := mocknet.New()
	t.Cleanup(func() { _ = mn.Close() })
	client, err := mn.GenPeer()
	if err != nil {
		t.Fatal(err)
	}
	server, err := mn.GenPeer()
	if err != nil {
		t.Fatal(err)
	}
	if err := mn.LinkAll(); err != nil {
		t.Fatal(err)
	}
	if _, err := mn.ConnectPeers(client.ID(), server.ID()); err != nil {
		t.Fatal(err)
	}

	author := dagtest.Key(7)
	v := dagtest.Sign(t, author, 1, nil, dagtest.Op([]byte("refused for now")))
	stalled := make(chan struct{})
	t.Cleanup(func() { close(stalled) })
	server.SetStreamHandler(SyncProtocol, func(st network.Stream) {
		defer st.Reset()
		r := bufio.NewReader(st)
		for {
			var req syncReq
			if err := readMsg(r, maxSyncRequest, &req); err != nil {
				return
			}
			var resp syncResp
			switch {
			case req.Op == syncOpSummary:
				resp.VV = []dag.VVEntry{{Author: dagtest.Node(author), Seq: 1}}
			case req.Op == syncOpPull && req.From == 0:
				resp.Vertices, resp.Next = [][]byte{v.Raw()}, 1 // more to come…
			default:
				<-stalled // …that never comes
				return
			}
			if err := writeMsg(st, &resp); err != nil {
				return
			}
		}
	})

	d := dagtest.Open(t, dagtest.Key(1), brokenDisk{})
	const stall = 30 * time.Second
	s := NewSyncer(client, d, NewScores(), SyncConfig{Timeout: stall, IdleTimeout: stall}, nil)

	ctx, cancel := context.WithTimeout(t.Context(), 2*stall)
	defer cancel()
	start := time.Now()
	err = s.SyncWith(ctx, server.ID())
	took := time.Since(start)
	if err == nil {
		t.Fatal("SyncWith succeeded although the batch could not be added")
	}
	if took > 10*time.Second {
		t.Fatalf("SyncWith returned after %v (%v): the failed session waited for the stalled read", took, err)
	}
}

// brokenDisk is a handler whose every Apply fails locally, as on a full
// disk: adding a vertex that needs it fails.
type brokenDisk struct{}

func (brokenDisk) Apply(context.Context, dag.Op, *dag.Vertex) error {
	return errors.New("test: disk full")
}
