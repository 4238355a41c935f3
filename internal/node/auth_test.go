package node

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/internal/auth"
	"github.com/onvm-network/onvm/internal/identity"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// startAuthNode runs a node with an encrypted identity and authentication
// on, logging at debug level into the returned buffer.
func startAuthNode(t *testing.T, dir string, pass []byte) (*Node, *lockedBuffer, func()) {
	t.Helper()
	if !IsInitialized(dir) {
		if _, err := Init(InitOptions{DataDir: dir, Passphrase: pass, KDF: fastKDF}); err != nil {
			t.Fatal(err)
		}
	}
	logs := &lockedBuffer{}
	cfg := testConfig()
	cfg.RPCAuth.Enable = true
	n, err := New(t.Context(), Options{DataDir: dir, Config: cfg, Passphrase: pass,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := contextWithCancel(t)
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			if err := n.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return n, logs, stop
}

// createProject calls the admin route with the data directory's cookie,
// as `onvm generate-project` does.
func createProject(t *testing.T, n *Node, dir string) client.Credentials {
	t.Helper()
	cookie, err := auth.ReadCookie(dir)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", n.RPCURL()+"/admin/projects", strings.NewReader("{}"))
	req.Header.Set(auth.HeaderAdminCookie, cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p struct{ ProjectID, ProjectSecret string }
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 {
		t.Fatalf("create project: %d %s", resp.StatusCode, b)
	}
	var raw map[string]string
	_ = json.Unmarshal(b, &raw)
	p.ProjectID, p.ProjectSecret = raw["project_id"], raw["project_secret"]
	secret, err := client.ParseSecret(p.ProjectSecret)
	if err != nil {
		t.Fatal(err)
	}
	return client.Credentials{ProjectID: p.ProjectID, Secret: secret}
}

func TestAuthenticatedNode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	pass := []byte("node-passphrase-canary-7f3a")
	n, logs, _ := startAuthNode(t, dir, pass)

	for name, want := range map[string]os.FileMode{auth.CookieFile: 0o600, auth.MasterFile: 0o600, identity.IdentityFile: 0o600, ".": 0o700} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v (%v)", name, fi.Mode().Perm(), want, err)
		}
	}
	plain, _ := client.New(n.RPCURL())
	live, err := plain.Liveness(t.Context())
	if err != nil || live.Mode != "prod" {
		t.Fatalf("liveness = %+v, %v", live, err)
	}
	if _, err := plain.BlobInfo(t.Context(), "blob"+strings.Repeat("0", 64)); !isStatus(err, 401) {
		t.Fatalf("unsigned request = %v, want 401", err)
	}
	creds := createProject(t, n, dir)
	c, _ := client.New(n.RPCURL(), client.WithCredentials(creds))
	ref, err := c.UploadBlob(t.Context(), strings.NewReader("signed"), 6, "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := c.GetBlob(t.Context(), ref.ID, &out); err != nil || out.String() != "signed" {
		t.Fatalf("GetBlob = %q, %v", out.String(), err)
	}

	// Secrets never reach the log: passphrase, project secret, key bytes,
	// the cookie.
	cookie, _ := auth.ReadCookie(dir)
	keys, err := identity.Load(dir, identity.Options{Passphrase: pass})
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{
		"passphrase":     string(pass),
		"project secret": hex.EncodeToString(creds.Secret),
		"ed25519 seed":   hex.EncodeToString(keys.Ed25519.Seed()),
		"admin cookie":   cookie,
	}
	l := logs.String()
	if !strings.Contains(l, "RPC authentication on") {
		t.Fatal("log capture not working")
	}
	for what, s := range secrets {
		if strings.Contains(l, s) {
			t.Errorf("%s found in the log", what)
		}
	}
}

func TestAuthProjectsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	pass := []byte("pw")
	var creds client.Credentials
	var cookie1 string
	{
		n, _, stop := startAuthNode(t, dir, pass)
		creds = createProject(t, n, dir)
		cookie1, _ = auth.ReadCookie(dir)
		stop()
		if _, err := os.Stat(filepath.Join(dir, auth.CookieFile)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("cookie left after Close: %v", err)
		}
	}
	n, _, _ := startAuthNode(t, dir, pass)
	if c2, _ := auth.ReadCookie(dir); c2 == cookie1 {
		t.Fatal("admin cookie not rotated at start")
	}
	c, _ := client.New(n.RPCURL(), client.WithCredentials(creds))
	if _, err := c.UploadBlob(t.Context(), strings.NewReader("again"), 5, ""); err != nil {
		t.Fatalf("project lost across restart: %v", err)
	}
}

func TestDevNodeHasAuthOff(t *testing.T) {
	n, c := startNode(t, t.TempDir())
	_ = n
	live, err := c.Liveness(t.Context())
	if err != nil || live.Mode != "dev" {
		t.Fatalf("liveness = %+v, %v", live, err)
	}
	if _, err := c.UploadBlob(t.Context(), strings.NewReader("open"), 4, ""); err != nil {
		t.Fatalf("dev node refused an unsigned request: %v", err)
	}
}

func isStatus(err error, code int) bool {
	var ce *client.Error
	return errors.As(err, &ce) && ce.Status == code
}

// TestGuestCannotReadNodeEnvironment is the node-level regression test for
// the original's S1: WASI guests inherited the process environment, so a
// deployed program could return ONVM_IDENTITY_PASSPHRASE. The fixture
// (internal/wasm/testdata/wasi.c) returns env_count, env_bytes and the
// environment it sees.
func TestGuestCannotReadNodeEnvironment(t *testing.T) {
	const canary = "identity-passphrase-canary-91c2"
	t.Setenv("ONVM_IDENTITY_PASSPHRASE", canary)
	t.Setenv("ONVM_PROJECT_SECRET", canary)
	wasm, err := os.ReadFile(filepath.Join("..", "wasm", "testdata", "wasi.wasm"))
	if err != nil {
		t.Fatalf("committed wasi fixture: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "data")
	n, _, _ := startAuthNode(t, dir, []byte(canary))
	c, _ := client.New(n.RPCURL(), client.WithCredentials(createProject(t, n, dir)))
	p, err := c.Deploy(t.Context(), client.DeployRequest{Wasm: wasm, Entrypoint: "run"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Execute(t.Context(), client.ExecuteRequest{ProgramID: p.ID})
	if err != nil {
		t.Fatal(err)
	}
	out, err := res.Output()
	if err != nil || len(out) < 56 {
		t.Fatalf("output %d bytes, %v", len(out), err)
	}
	if count := binary.LittleEndian.Uint32(out[:4]); count != 0 {
		t.Errorf("guest sees %d environment variables, want 0", count)
	}
	if bytes.Contains(out, []byte(canary)) || bytes.Contains(out, []byte("ONVM_")) {
		t.Fatal("guest output contains the node's environment")
	}
}
