package blob

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/onvm-network/onvm/internal/id"
)

// env is a store over a real directory and an in-memory pebble database that
// survives reopening the store (a node restart keeps its database).
type env struct {
	t   testing.TB
	dir string
	db  *pebble.DB
	s   *Store
}

func newEnv(t testing.TB) *env {
	t.Helper()
	db, err := pebble.Open("db", &pebble.Options{FS: vfs.NewMem(), Logger: quietLog{}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: filepath.Join(t.TempDir(), "blobs"), db: db}
	t.Cleanup(func() {
		if e.s != nil {
			_ = e.s.Close()
		}
		_ = db.Close()
	})
	e.reopen(0)
	return e
}

// reopen closes the store (if open) and opens it again with maxSize.
func (e *env) reopen(maxSize int64) {
	e.t.Helper()
	if e.s != nil {
		if err := e.s.Close(); err != nil {
			e.t.Fatal(err)
		}
	}
	s, err := Open(Options{Dir: e.dir, DB: e.db, MaxSize: maxSize})
	if err != nil {
		e.t.Fatal(err)
	}
	e.s = s
}

func (e *env) put(data []byte) Info {
	e.t.Helper()
	info, _, err := e.s.Put(e.t.Context(), bytes.NewReader(data), "application/octet-stream")
	if err != nil {
		e.t.Fatal(err)
	}
	return info
}

// readAll opens b and reads it whole through Read.
func (e *env) readAll(b id.Blob) ([]byte, error) {
	r, err := e.s.Open(e.t.Context(), b)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(struct{ io.Reader }{r}) // hide WriterTo: exercise Read
}

// files returns the names in the store directory.
func (e *env) files() []string {
	e.t.Helper()
	ents, err := os.ReadDir(e.dir)
	if err != nil {
		e.t.Fatal(err)
	}
	var names []string
	for _, d := range ents {
		names = append(names, d.Name())
	}
	return names
}

// quietLog keeps pebble's informational logging out of test output.
type quietLog struct{}

func (quietLog) Infof(string, ...any)      {}
func (quietLog) Errorf(f string, a ...any) {}
func (quietLog) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }

func randBytes(n int, seed uint64) []byte {
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16)})
	b := make([]byte, n)
	_, _ = r.Read(b)
	return b
}

// TestPutVectors stores the official BLAKE3 test vector inputs and checks the
// returned ids, the Stat metadata and the bytes read back.
func TestPutVectors(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/blake3_test_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vec struct {
		Cases []struct {
			InputLen int    `json:"input_len"`
			Hash     string `json:"hash"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &vec); err != nil {
		t.Fatal(err)
	}
	if len(vec.Cases) == 0 {
		t.Fatal("no vectors")
	}
	e := newEnv(t)
	for _, c := range vec.Cases {
		data := pattern(c.InputLen)
		info := e.put(data)
		if got := hex.EncodeToString(info.ID[:]); got != c.Hash[:64] {
			t.Errorf("len %d: id %s, want %s", c.InputLen, got, c.Hash[:64])
			continue
		}
		st, err := e.s.Stat(t.Context(), info.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size != int64(c.InputLen) || !st.Complete || st.Groups != int(Groups(int64(c.InputLen))) ||
			st.MIME != "application/octet-stream" || st.CreatedAt.IsZero() {
			t.Errorf("len %d: stat %+v", c.InputLen, st)
		}
		got, err := e.readAll(info.ID)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("len %d: read back %d bytes, err %v", c.InputLen, len(got), err)
		}
	}
}

func TestPutSizes(t *testing.T) {
	e := newEnv(t)
	sizes := []int{0, 1, 1023, 1024, 1025, GroupSize - 1, GroupSize, GroupSize + 1,
		2*GroupSize - 1, 2 * GroupSize, 2*GroupSize + 1, 7*GroupSize + 3, 16 * GroupSize}
	for _, n := range sizes {
		data := randBytes(n, uint64(n))
		info := e.put(data)
		if info.ID != id.BlobOf(data) || info.Size != int64(n) {
			t.Fatalf("size %d: info %+v", n, info)
		}
		got, err := e.readAll(info.ID)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: read back %d bytes, err %v", n, len(got), err)
		}
		var buf bytes.Buffer // WriteTo path
		r, err := e.s.Open(t.Context(), info.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(&buf, r); err != nil || !bytes.Equal(buf.Bytes(), data) {
			t.Fatalf("size %d: WriteTo %d bytes, err %v", n, buf.Len(), err)
		}
		_ = r.Close()
	}
	if blobs, total := e.s.Usage(); blobs != len(sizes) {
		t.Errorf("usage %d blobs %d bytes, want %d blobs", blobs, total, len(sizes))
	}
}

func TestStatOpenUnknown(t *testing.T) {
	e := newEnv(t)
	b := id.BlobOf([]byte("never stored"))
	if _, err := e.s.Stat(t.Context(), b); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat: %v, want ErrNotFound", err)
	}
	if _, err := e.s.Open(t.Context(), b); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open: %v, want ErrNotFound", err)
	}
}

func TestPutSameBytesStoredOnce(t *testing.T) {
	e := newEnv(t)
	data := randBytes(3*GroupSize+17, 1)
	first, existed, err := e.s.Put(t.Context(), bytes.NewReader(data), "text/plain")
	if err != nil || existed {
		t.Fatalf("first put: existed %v err %v", existed, err)
	}
	second, existed, err := e.s.Put(t.Context(), bytes.NewReader(data), "image/png")
	if err != nil || !existed {
		t.Fatalf("second put: existed %v err %v", existed, err)
	}
	if second != first {
		t.Errorf("second put info %+v, want %+v", second, first)
	}
	if names := e.files(); len(names) != 1 {
		t.Errorf("files %v, want one", names)
	}
	if blobs, total := e.s.Usage(); blobs != 1 || total != int64(len(data)) {
		t.Errorf("usage %d blobs %d bytes", blobs, total)
	}
}

func TestPutConcurrentSameBytes(t *testing.T) {
	e := newEnv(t)
	data := randBytes(5*GroupSize+1, 2)
	const n = 8
	var (
		wg      sync.WaitGroup
		infos   [n]Info
		existed [n]bool
		errs    [n]error
	)
	for i := range n {
		wg.Go(func() {
			infos[i], existed[i], errs[i] = e.s.Put(t.Context(), bytes.NewReader(data), "")
		})
	}
	wg.Wait()
	fresh := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if infos[i].ID != id.BlobOf(data) {
			t.Errorf("put %d: id %s", i, infos[i].ID)
		}
		if !existed[i] {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d puts stored the bytes, want exactly 1", fresh)
	}
	if names := e.files(); len(names) != 1 {
		t.Errorf("files %v, want one", names)
	}
	if got, err := e.readAll(id.BlobOf(data)); err != nil || !bytes.Equal(got, data) {
		t.Errorf("read back: %v", err)
	}
}

func hexName(data []byte) string { return id.Hash(id.BlobOf(data)).String() }
func idOf(data []byte) id.Blob   { return id.BlobOf(data) }

// TestReaderConformance runs the standard library's reader checks (Read,
// ReadAt, Seek) and feeds Put through awkward readers.
func TestReaderConformance(t *testing.T) {
	e := newEnv(t)
	for _, size := range []int{0, 1, GroupSize + 1, 3*GroupSize - 1} {
		data := randBytes(size, uint64(size)+50)
		readers := map[string]io.Reader{
			"one byte":   iotest.OneByteReader(bytes.NewReader(data)),
			"data+EOF":   iotest.DataErrReader(bytes.NewReader(data)),
			"half reads": iotest.HalfReader(bytes.NewReader(data)),
		}
		for name, src := range readers {
			info, _, err := e.s.Put(t.Context(), src, "")
			if err != nil || info.ID != id.BlobOf(data) {
				t.Fatalf("size %d %s: %v", size, name, err)
			}
		}
		r, err := e.s.Open(t.Context(), id.BlobOf(data))
		if err != nil {
			t.Fatal(err)
		}
		if err := iotest.TestReader(r, data); err != nil {
			t.Errorf("size %d: %v", size, err)
		}
		_ = r.Close()
	}
}
