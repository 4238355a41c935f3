package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/wasm"
)

func TestStatusMapping(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("put blob %s: %w", id.BlobOf(nil), err) }
	tests := []struct {
		err  error
		code int
		name string
	}{
		{wrap(blob.ErrNotFound), 404, "not_found"},
		{wrap(blob.ErrIncomplete), 404, "incomplete"},
		{wrap(blob.ErrTooLarge), 413, "too_large"},
		{wrap(&http.MaxBytesError{Limit: 1}), 413, "too_large"},
		{wrap(blob.ErrNoSpace), 507, "insufficient_storage"},
		{wrap(blob.ErrCorrupt), 500, "corrupt"},
		{wrap(blob.ErrBusy), 409, "busy"},
		{wrap(blob.ErrClosed), 503, "unavailable"},
		{wrap(id.ErrSyntax), 400, "invalid_id"},
		{errUploadAborted(io.ErrUnexpectedEOF), 400, "upload_aborted"},
		{wrap(context.Canceled), 503, "canceled"},
		{statusError(416), 416, "range_not_satisfiable"},
		{statusError(412), 412, "precondition_failed"},
		{fmt.Errorf("disk on fire"), 500, "internal"},
		{fmt.Errorf("execute x: %w", &wasm.Error{Kind: wasm.KindOutputTooLarge}), 422, "output_too_large"},
		{fmt.Errorf("execute x: %w", &wasm.Error{Kind: wasm.KindWritesTooLarge, Message: "state writes would reach 2 bytes"}), 422, "writes_too_large"},
		{fmt.Errorf("execute x: %w", &wasm.Error{Kind: wasm.KindTimeout}), 504, "timeout"},
		{fmt.Errorf("execute x: %w", &wasm.Error{Kind: wasm.KindCompiling}), 503, "compiling"},
	}
	for _, tt := range tests {
		code, name, msg := status(tt.err)
		if code != tt.code || name != tt.name {
			t.Errorf("status(%v) = %d %s, want %d %s", tt.err, code, name, tt.code, tt.name)
		}
		if name == "internal" && strings.Contains(msg, "fire") {
			t.Errorf("internal error detail leaked to the client: %q", msg)
		}
	}
}

// fullDisk is a store whose disk is full.
type fullDisk struct{ *blob.Store }

func (fullDisk) Put(context.Context, io.Reader, string) (blob.Info, bool, error) {
	return blob.Info{}, false, fmt.Errorf("put blob: %w", blob.ErrNoSpace)
}

func TestUploadDiskFull(t *testing.T) {
	n := newTestNode(t, func(o *Options) { o.Blobs = fullDisk{o.Blobs.(*blob.Store)} })
	resp, body := n.do("POST", "/blobs", nil, strings.NewReader("data"))
	if resp.StatusCode != http.StatusInsufficientStorage || !strings.Contains(string(body), `"insufficient_storage"`) {
		t.Fatalf("got %d %s, want 507", resp.StatusCode, body)
	}
}
