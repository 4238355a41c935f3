package api

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/client/wire"
	"github.com/onvm-network/onvm/internal/bls"
	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/identity"
	"github.com/onvm-network/onvm/internal/program"
	"github.com/onvm-network/onvm/internal/state"
	"github.com/onvm-network/onvm/internal/wasm"
)

var (
	rtOnce sync.Once
	rt     *wasm.Runtime
	rtErr  error
)

// sharedRuntime is one wasm runtime for the package's tests (each sample
// compiles once), with a disk cache that survives between runs.
func sharedRuntime(t testing.TB) *wasm.Runtime {
	t.Helper()
	rtOnce.Do(func() {
		rt, rtErr = wasm.New(context.Background(), wasm.Config{CacheDir: filepath.Join(os.TempDir(), "onvm-api-test-wasm-cache"), CompileWait: 10 * time.Minute})
	})
	if rtErr != nil {
		t.Fatal(rtErr)
	}
	return rt
}

func nodeKeys(t testing.TB, seed byte) *identity.Keys {
	t.Helper()
	sk, err := bls.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{seed}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	return &identity.Keys{Ed25519: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)), BLS: sk}
}

// newProgramNode is a test node whose program routes run on a real engine
// (its own pebble database, the node's blob store) signing with the keys
// of seed, and a clock fixed at fixedNow.
func newProgramNode(t testing.TB, seed byte) *testNode {
	t.Helper()
	return newTestNode(t, func(o *Options) {
		db, err := pebble.Open(filepath.Join(t.TempDir(), "db"), &pebble.Options{Logger: quietPebble{}})
		if err != nil {
			t.Fatal(err)
		}
		st, err := state.Open(db)
		if err != nil {
			t.Fatal(err)
		}
		eng, err := chain.New(chain.Options{
			DB: db, State: st, Catalog: program.NewCatalog(db, chain.BlobCode{Blobs: o.Blobs}), Blobs: o.Blobs,
			Runtime: sharedRuntime(t), Keys: nodeKeys(t, seed), Now: func() time.Time { return fixedNow },
		})
		if err != nil {
			t.Fatal(err)
		}
		o.Programs = eng
		t.Cleanup(func() { // runs after the server has shut down
			eng.Close()
			db.Close()
		})
	})
}

func sampleWasm(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", name, name+".wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsonBody marshals v.
func jsonBody(t testing.TB, v any) *bytes.Reader {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}

var jsonHeader = http.Header{"Content-Type": {"application/json"}}

// deployJSON deploys code with the JSON form and returns the program id.
func (n *testNode) deployJSON(code []byte, entry, salt string) string {
	n.t.Helper()
	resp, body := n.do("POST", "/programs", jsonHeader, jsonBody(n.t, map[string]any{
		"wasm_base64": base64.StdEncoding.EncodeToString(code), "entrypoint": entry,
		"blob_refs": []string{}, "salt_base64": base64.StdEncoding.EncodeToString([]byte(salt)),
	}))
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		n.t.Fatalf("deploy: %d %s", resp.StatusCode, body)
	}
	var info wire.Program
	if err := json.Unmarshal(body, &info); err != nil {
		n.t.Fatal(err)
	}
	return info.ID
}

// getJSON GETs path, expects 200 and decodes into v.
func (n *testNode) getJSON(path string, v any) {
	n.t.Helper()
	resp, body := n.do("GET", path, nil, nil)
	if resp.StatusCode != http.StatusOK {
		n.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		n.t.Fatalf("GET %s: %v", path, err)
	}
}

func TestDeployAndDescribe(t *testing.T) {
	n := newProgramNode(t, 1)
	code := sampleWasm(t, "echo")
	want := id.ProgramOf(code, []byte("salt")).String()

	// JSON form: 201, then 200 with the same program for the same salt.
	body := map[string]any{
		"wasm_base64": base64.StdEncoding.EncodeToString(code), "entrypoint": "onvm_main",
		"blob_refs": []string{id.BlobOf([]byte("ref")).String()}, "salt_base64": base64.StdEncoding.EncodeToString([]byte("salt")),
	}
	for _, wantStatus := range []int{http.StatusCreated, http.StatusOK} {
		resp, b := n.do("POST", "/programs", jsonHeader, jsonBody(t, body))
		if resp.StatusCode != wantStatus || !strings.Contains(string(b), `"id":"`+want+`"`) {
			t.Fatalf("deploy: %d %s", resp.StatusCode, b)
		}
	}

	var info wire.Program
	n.getJSON("/programs/"+want, &info)
	if info.ID != want || info.Size != int64(len(code)) || info.Entrypoint != "onvm_main" ||
		len(info.BlobRefs) != 1 || info.Manifest.SaltBase64 != base64.StdEncoding.EncodeToString([]byte("salt")) {
		t.Fatalf("program info %+v", info)
	}
	// The manifest's CBOR is the signed manifest: it verifies offline.
	raw, _ := base64.StdEncoding.DecodeString(info.Manifest.CBORBase64)
	m, err := program.Decode(raw)
	if err != nil || m.VerifyCode(code) != nil || m.ID().String() != info.Manifest.ManifestID {
		t.Fatalf("manifest: %v", err)
	}

	// Streaming form: the raw module as the body.
	resp, b := n.do("POST", "/programs?entrypoint=onvm_main&salt="+base64.StdEncoding.EncodeToString([]byte("s2")),
		http.Header{"Content-Type": {"application/wasm"}}, bytes.NewReader(code))
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(b), id.ProgramOf(code, []byte("s2")).String()) {
		t.Fatalf("raw deploy: %d %s", resp.StatusCode, b)
	}
	// From an uploaded blob.
	blobID := n.upload(code, "application/wasm")
	resp, b = n.do("POST", "/programs", jsonHeader, jsonBody(t, map[string]any{
		"code_blob": blobID, "entrypoint": "onvm_main", "salt_base64": base64.StdEncoding.EncodeToString([]byte("s3")),
	}))
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(b), id.ProgramOf(code, []byte("s3")).String()) {
		t.Fatalf("deploy from blob: %d %s", resp.StatusCode, b)
	}

	// Committee: this node alone, weight 1, threshold 1; the aggregate key
	// of one member is its key.
	var c wire.Committee
	n.getJSON("/programs/"+want+"/committee", &c)
	keys := nodeKeys(t, 1)
	if len(c.Members) != 1 || c.Threshold != 1 || c.Members[0].Node != keys.Node().String() ||
		c.Members[0].BLSPublicKey != keys.BLS.PublicKey().String() || c.AggregatePublicKey != keys.BLS.PublicKey().String() {
		t.Fatalf("committee %+v", c)
	}
	_, cb := n.do("GET", "/programs/"+want+"/committee", nil, nil)
	golden(t, "committee.json", bytes.ReplaceAll(cb, []byte(want), []byte("prog<id>")))
}

func TestProgramCatalogPages(t *testing.T) {
	n := newProgramNode(t, 1)
	code := sampleWasm(t, "echo")
	ids := map[string]bool{}
	for _, salt := range []string{"a", "b", "c"} {
		ids[n.deployJSON(code, "onvm_main", salt)] = true
	}
	seen := map[string]bool{}
	path := "/program-catalog?limit=2"
	pages := 0
	for {
		var page wire.CatalogPage
		n.getJSON(path, &page)
		pages++
		for _, p := range page.Programs {
			if p.Version != 1 || p.InitialRoot != state.EmptyRoot.String() || p.TimestampMS != fixedNow.UnixMilli() || p.Entrypoint != "onvm_main" {
				t.Fatalf("entry %+v", p)
			}
			seen[p.ProgramID] = true
		}
		if page.NextCursor == nil {
			break
		}
		path = "/program-catalog?limit=2&cursor=" + *page.NextCursor
	}
	if pages != 2 || len(seen) != 3 {
		t.Fatalf("%d pages, %d programs", pages, len(seen))
	}
	for p := range ids {
		if !seen[p] {
			t.Fatalf("%s missing", p)
		}
	}
}

func TestDeployErrors(t *testing.T) {
	n := newProgramNode(t, 1)
	code := sampleWasm(t, "echo")
	b64 := base64.StdEncoding.EncodeToString
	tests := []struct {
		name   string
		header http.Header
		path   string
		body   []byte
		status int
		code   string
		msg    string
	}{
		{"not wasm", jsonHeader, "/programs", mustJSON(t, map[string]any{"wasm_base64": b64([]byte("hello")), "entrypoint": "main"}), 400, "invalid_module", "invalid wasm module: decode"},
		{"missing entrypoint export", jsonHeader, "/programs", mustJSON(t, map[string]any{"wasm_base64": b64(code), "entrypoint": "nope"}), 400, "invalid_module", "nope"},
		{"no entrypoint", jsonHeader, "/programs", mustJSON(t, map[string]any{"wasm_base64": b64(code)}), 400, "invalid_request", "entrypoint is required"},
		{"bad base64", jsonHeader, "/programs", []byte(`{"wasm_base64":"!!!","entrypoint":"x"}`), 400, "invalid_base64", "wasm_base64"},
		{"bad json", jsonHeader, "/programs", []byte(`{"wasm_base64":`), 400, "invalid_json", "JSON"},
		{"bad blob ref", jsonHeader, "/programs", mustJSON(t, map[string]any{"wasm_base64": b64(code), "entrypoint": "onvm_main", "blob_refs": []string{"prog00"}}), 400, "invalid_id", "blob"},
		{"unknown code blob", jsonHeader, "/programs", mustJSON(t, map[string]any{"code_blob": id.BlobOf([]byte("x")).String(), "entrypoint": "onvm_main"}), 404, "not_found", "blob not found"},
		{"raw module too large", http.Header{"Content-Type": {"application/wasm"}}, "/programs?entrypoint=x", make([]byte, wasm.MaxCodeSize+1), 413, "module_too_large", "larger"},
		{"function over the size limit", jsonHeader, "/programs", mustJSON(t, map[string]any{"wasm_base64": b64(bigFunction()), "entrypoint": "main"}), 400, "module_limit_function_size", "function_size"},
		{"branches over the limit", jsonHeader, "/programs", mustJSON(t, map[string]any{"wasm_base64": b64(loopsInARow()), "entrypoint": "main"}), 400, "module_limit_branch_work", "branch_work"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := n.do("POST", tt.path, tt.header, bytes.NewReader(tt.body))
			var e wire.ErrorBody
			_ = json.Unmarshal(b, &e)
			if resp.StatusCode != tt.status || e.Error.Code != tt.code || !strings.Contains(e.Error.Message, tt.msg) {
				t.Fatalf("got %d %s, want %d %s mentioning %q", resp.StatusCode, b, tt.status, tt.code, tt.msg)
			}
		})
	}
	for _, path := range []string{"/programs/prog" + strings.Repeat("0", 64), "/programs/prog" + strings.Repeat("0", 64) + "/committee"} {
		resp, b := n.do("GET", path, nil, nil)
		if resp.StatusCode != 404 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
	}
	resp, b := n.do("GET", "/programs/blob"+strings.Repeat("0", 64), nil, nil)
	if resp.StatusCode != 400 || !strings.Contains(string(b), "expected program id") {
		t.Fatalf("blob id as program id: %d %s", resp.StatusCode, b)
	}
}

// bigFunction is a module whose one function is 100 000 × (i32.const 0;
// drop), 300 KB: over the module limit on a function body's size.
func bigFunction() []byte {
	return oneFunction(append(append([]byte{0}, bytes.Repeat([]byte{0x41, 0x00, 0x1a}, 100_000)...), 0x0b))
}

// loopsInARow is a module whose one function holds 20 000 loops one after the other (60 KB
// that compiled for minutes).
func loopsInARow() []byte {
	return oneFunction(append(append([]byte{0}, bytes.Repeat([]byte{0x03, 0x40, 0x0b}, 20_000)...), 0x0b))
}

// oneFunction is a module of one () -> () function of body.
func oneFunction(body []byte) []byte {
	code := binary.AppendUvarint([]byte{1}, uint64(len(body)))
	code = append(code, body...)
	m := []byte("\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a")
	m = binary.AppendUvarint(m, uint64(len(code)))
	return append(m, code...)
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// committeeOf fetches and converts a program's committee.
func (n *testNode) committeeOf(p string) *consensus.Committee {
	n.t.Helper()
	var c consensus.Committee
	n.getJSON("/programs/"+p+"/committee", &c)
	return &c
}
