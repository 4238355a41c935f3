package node

import (
	"bytes"
	"crypto/rand"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/client/wire"
	"github.com/onvm-network/onvm/internal/config"
)

// TestBlobProviderDown: a node that knows a blob only by its metadata and
// whose one provider is down answers GET /blobs/{id} with 503
// providers_unreachable within 2 s, not 500 and not after a timeout.
func TestBlobProviderDown(t *testing.T) {
	a, stopA, cfg := stoppableBootnode(t)
	cfg.Storage.BlobSyncMode = config.SyncMetadata
	b := startWith(t, t.TempDir(), cfg)
	ctx := t.Context()
	data := make([]byte, 100<<10)
	rand.Read(data)
	ref, err := a.c.UploadBlob(ctx, bytes.NewReader(data), int64(len(data)), "application/octet-stream")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the blob's metadata on B", func() bool {
		info, err := b.c.BlobInfo(ctx, ref.ID)
		return err == nil && info.Size == int64(len(data)) && !info.Complete
	})
	stopA()

	start := time.Now()
	_, err = b.c.GetBlob(ctx, ref.ID, new(bytes.Buffer))
	took := time.Since(start)
	var e *client.Error
	if !errors.As(err, &e) || e.Status != http.StatusServiceUnavailable || e.Code != wire.CodeProvidersUnreachable {
		t.Fatalf("GET with the only provider down: %v, want 503 %s", err, wire.CodeProvidersUnreachable)
	}
	if took > 2*time.Second {
		t.Fatalf("answered after %v, want within 2 s", took)
	}
}

// TestBlobReadRightAfterUpload: a blob uploaded on one node is read on
// another at once, before its announcement can have travelled: the
// reader's node asks its peers before answering 404, and serves it.
func TestBlobReadRightAfterUpload(t *testing.T) {
	nodes := startCluster(t, 2, "", config.SyncMetadata)
	ctx := t.Context()
	for i := range 3 {
		data := make([]byte, 10<<10+i)
		rand.Read(data)
		ref, err := nodes[0].c.UploadBlob(ctx, bytes.NewReader(data), int64(len(data)), "application/octet-stream")
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if _, err := nodes[1].c.GetBlob(ctx, ref.ID, &got); err != nil || !bytes.Equal(got.Bytes(), data) {
			t.Fatalf("round %d: GET on the other node right after the upload: %v (%d bytes)", i, err, got.Len())
		}
	}
}
