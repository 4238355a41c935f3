package blob

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/id"
)

// staged opens e's store with an OnComplete that writes a marker per blob
// in the batch it is given, failing while fail is set.
func (e *env) staged(fail *bool) {
	e.t.Helper()
	if err := e.s.Close(); err != nil {
		e.t.Fatal(err)
	}
	s, err := Open(Options{Dir: e.dir, DB: e.db, OnComplete: func(b *pebble.Batch, info Info) error {
		if *fail {
			return errors.New("outbox refused")
		}
		if !info.Complete {
			e.t.Errorf("OnComplete of an incomplete blob %s", info.ID)
		}
		return b.Set(markerKey(info.ID), []byte(info.MIME), nil)
	}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.s = s
}

func markerKey(b id.Blob) []byte { return append([]byte("test/staged/"), b[:]...) }

func (e *env) marker(b id.Blob) (string, bool) {
	e.t.Helper()
	v, closer, err := e.db.Get(markerKey(b))
	if errors.Is(err, pebble.ErrNotFound) {
		return "", false
	}
	if err != nil {
		e.t.Fatal(err)
	}
	defer closer.Close()
	return string(v), true
}

// TestOnCompleteInTheRecordBatch: what OnComplete stages is committed with
// the record that makes a blob complete — by a Put or by an import — and
// when it fails, the blob is not stored at all.
func TestOnCompleteInTheRecordBatch(t *testing.T) {
	e := newEnv(t)
	fail := false
	e.staged(&fail)

	info := e.put([]byte("uploaded"))
	if mime, ok := e.marker(info.ID); !ok || mime != "application/octet-stream" {
		t.Fatalf("Put: marker %q %v", mime, ok)
	}

	src := newSource(3*GroupSize+5, 7)
	imp := e.begin(src)
	if _, ok := e.marker(src.id); ok {
		t.Fatal("an import in progress was announced")
	}
	for g := range src.groups() {
		if err := imp.WriteGroup(g, src.group(g)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := imp.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.marker(src.id); !ok {
		t.Fatal("a committed import was not announced")
	}

	fail = true
	data := []byte("refused by the outbox")
	if _, _, err := e.s.Put(t.Context(), bytes.NewReader(data), "text/plain"); err == nil {
		t.Fatal("Put succeeded although OnComplete failed")
	}
	b, _ := EncodeOutboard(data)
	if _, err := e.s.Stat(t.Context(), b); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Stat after a refused Put: %v", err)
	}
	if _, ok := e.marker(b); ok {
		t.Fatal("marker of a refused Put")
	}
	if len(e.files()) != 2 {
		t.Fatalf("files after a refused Put: %v", e.files())
	}
}
