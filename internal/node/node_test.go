package node

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/config"
	"github.com/onvm-network/onvm/internal/identity"
)

var fastKDF = identity.KDF{Time: 1, Memory: 64, Threads: 1}

// testConfig listens on loopback ports chosen by the kernel.
func testConfig() config.Config {
	c := config.Default()
	c.RPC.Listen = "127.0.0.1:0"
	c.Network.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	c.RPCAuth.Enable = false // auth_test.go covers authenticated nodes
	return c
}

// startNode runs a node on dir until the test ends.
func startNode(t *testing.T, dir string) (*Node, *client.Client) {
	t.Helper()
	if !IsInitialized(dir) {
		if _, err := Init(InitOptions{DataDir: dir, AllowPlaintext: true}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := New(t.Context(), Options{DataDir: dir, Config: testConfig(), Dev: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := contextWithCancel(t)
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if err := n.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	c, err := client.New(n.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	return n, c
}

func TestNodeRoundTripAndRestart(t *testing.T) {
	dir := t.TempDir()
	n, c := startNode(t, dir)
	url, err := os.ReadFile(filepath.Join(dir, RPCURLFile))
	if err != nil || strings.TrimSpace(string(url)) != n.RPCURL() {
		t.Fatalf("rpc.url = %q, %v; want %s", url, err, n.RPCURL())
	}
	if len(n.P2PAddrs()) == 0 || !strings.Contains(n.P2PAddrs()[0], "/p2p/"+n.PeerID().String()) {
		t.Errorf("P2PAddrs = %v", n.P2PAddrs())
	}
	if l, err := c.Liveness(t.Context()); err != nil || l.Mode != "dev" {
		t.Fatalf("liveness = %+v, %v", l, err)
	}
	data := make([]byte, 3*blob.GroupSize+7)
	rand.Read(data)
	ref, err := c.UploadBlob(t.Context(), bytes.NewReader(data), int64(len(data)), "")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := c.GetBlob(t.Context(), ref.ID, &out); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("GetBlob: %v", err)
	}
	// A second node cannot open the same data directory.
	if _, err := New(t.Context(), Options{DataDir: dir, Config: testConfig(), Dev: true}); err == nil {
		t.Fatal("a second node opened the same data dir")
	}
}

func TestNodeKeepsBlobsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(InitOptions{DataDir: dir, AllowPlaintext: true}); err != nil {
		t.Fatal(err)
	}
	run := func() (*Node, *client.Client, func()) {
		n, err := New(t.Context(), Options{DataDir: dir, Config: testConfig(), AllowPlaintext: true})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := contextWithCancel(t)
		done := make(chan error, 1)
		go func() { done <- n.Run(ctx) }()
		c, _ := client.New(n.RPCURL())
		return n, c, func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
			n.Close()
		}
	}
	n1, c, stop := run()
	ref, err := c.UploadBlob(t.Context(), strings.NewReader("persist me"), 10, "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	id1 := n1.ID()
	stop()
	if _, err := os.Stat(filepath.Join(dir, RPCURLFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("rpc.url left behind after Close: %v", err)
	}
	n2, c, stop := run()
	defer stop()
	if n2.ID() != id1 {
		t.Error("node id changed across restart")
	}
	info, err := c.BlobInfo(t.Context(), ref.ID)
	if err != nil || info.Size != 10 || info.MIME != "text/plain" {
		t.Fatalf("BlobInfo after restart = %+v, %v", info, err)
	}
}

func TestNewFailsCleanly(t *testing.T) {
	tests := []struct {
		name string
		prep func(dir string) Options
		want error
	}{
		{"no identity", func(dir string) Options {
			return Options{DataDir: dir, Config: testConfig()}
		}, identity.ErrNotFound},
		{"encrypted without passphrase", func(dir string) Options {
			Init(InitOptions{DataDir: dir, Passphrase: []byte("pw"), KDF: fastKDF})
			return Options{DataDir: dir, Config: testConfig()}
		}, identity.ErrPassphraseRequired},
		{"wrong passphrase", func(dir string) Options {
			Init(InitOptions{DataDir: dir, Passphrase: []byte("pw"), KDF: fastKDF})
			return Options{DataDir: dir, Config: testConfig(), Passphrase: []byte("nope")}
		}, identity.ErrWrongPassphrase},
		{"plaintext not allowed", func(dir string) Options {
			Init(InitOptions{DataDir: dir, AllowPlaintext: true})
			return Options{DataDir: dir, Config: testConfig()}
		}, identity.ErrPlaintextDisallowed},
		{"invalid config", func(dir string) Options {
			c := testConfig()
			c.Storage.BlobSyncMode = "sometimes"
			return Options{DataDir: dir, Config: c}
		}, config.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := New(t.Context(), tt.prep(dir))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if _, err := os.Stat(filepath.Join(dir, RPCURLFile)); err == nil {
				t.Error("rpc.url written by a node that failed to start")
			}
		})
	}
}

func TestInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	r, err := Init(InitOptions{DataDir: dir, Passphrase: []byte("pw"), EnableMDNS: true, KDF: fastKDF})
	if err != nil {
		t.Fatal(err)
	}
	if !r.CreatedIdentity || !r.CreatedBLS || !r.WroteConfig || !r.Public.Encrypted {
		t.Errorf("first Init = %+v", r)
	}
	fi, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %v, want 0700", fi.Mode().Perm())
	}
	cfg, err := config.Load(r.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Network.EnableMDNS {
		t.Error("--enable-mdns not written to config.toml")
	}
	before, _ := os.ReadFile(r.ConfigPath)
	r2, err := Init(InitOptions{DataDir: dir}) // no passphrase needed: nothing to create
	if err != nil {
		t.Fatal(err)
	}
	if r2.CreatedIdentity || r2.CreatedBLS || r2.WroteConfig || r2.Public != r.Public {
		t.Errorf("second Init = %+v", r2)
	}
	after, _ := os.ReadFile(r.ConfigPath)
	if !bytes.Equal(before, after) {
		t.Error("config.toml rewritten")
	}
}

// TestB3sumCrossCheck uploads files of boundary sizes through the real API
// and compares the returned ids with the b3sum tool's output.
func TestB3sumCrossCheck(t *testing.T) {
	b3sum, err := exec.LookPath("b3sum")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("b3sum not installed: .ci/run installs it (apt-get install b3sum)")
		}
		t.Skip("b3sum not installed (apt-get install b3sum); CI installs it")
	}
	_, c := startNode(t, t.TempDir())
	g := blob.GroupSize
	sizes := []int{0, 1, 1023, 1024, 1025, g - 1, g, g + 1, 2*g - 1, 2 * g, 2*g + 1, 64 << 20}
	if testing.Short() {
		sizes = sizes[:len(sizes)-1]
	}
	dir := t.TempDir()
	for _, size := range sizes {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprint(size))
			data := make([]byte, size)
			rand.Read(data)
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(b3sum, "--no-names", path).Output()
			if err != nil {
				t.Fatal(err)
			}
			want := "blob" + strings.TrimSpace(string(out))
			f, _ := os.Open(path)
			defer f.Close()
			ref, err := c.UploadBlob(t.Context(), f, int64(size), "")
			if err != nil {
				t.Fatal(err)
			}
			if ref.ID != want || ref.Size != int64(size) {
				t.Fatalf("node says %s (%d bytes), b3sum says %s", ref.ID, ref.Size, want)
			}
			n, err := c.GetBlob(t.Context(), ref.ID, io.Discard)
			if err != nil || n != int64(size) {
				t.Fatalf("download: %d bytes, %v", n, err)
			}
		})
	}
}
