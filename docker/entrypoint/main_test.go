package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/onvm-network/onvm/internal/identity"
)

// capture replaces exec and records what would have run.
func capture(t *testing.T) *[]string {
	t.Helper()
	var got []string
	old := execve
	execve = func(bin string, argv, env []string) error {
		got = append([]string{bin}, argv[1:]...)
		for _, e := range env {
			if strings.HasPrefix(e, "ONVM_") {
				got = append(got, "env:"+e)
			}
		}
		return nil
	}
	t.Cleanup(func() { execve = old })
	return &got
}

func clearEnv(t *testing.T) {
	for _, k := range []string{"ONVM_DATA_DIR", "ONVM_RPC", "ONVM_RPC_BIND", "ONVM_LISTEN", "ONVM_IDENTITY_PASSPHRASE",
		"ONVM_ALLOW_PLAINTEXT_IDENTITY", "ONVM_DEV", "ONVM_BOOTNODES", "ONVM_BOOTNODE_FILES", "ONVM_PUBLISH_FILE",
		"ONVM_PUBLISH_ADDR", "ONVM_INIT_ENABLE_MDNS", "ONVM_BIN"} {
		t.Setenv(k, "")
	}
}

func TestFirstStartWithoutPassphraseExits2(t *testing.T) {
	clearEnv(t)
	got := capture(t)
	t.Setenv("ONVM_DATA_DIR", filepath.Join(t.TempDir(), "data"))
	if code := run(nil); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if len(*got) != 0 {
		t.Fatalf("exec'd %v", *got)
	}
}

func TestOtherCommandsPassThrough(t *testing.T) {
	clearEnv(t)
	got := capture(t)
	t.Setenv("ONVM_BIN", "/bin/onvm-test")
	run([]string{"generate-project", "--data-dir", "/data"})
	if want := []string{"/bin/onvm-test", "generate-project", "--data-dir", "/data"}; !slices.Equal((*got)[:4], want) {
		t.Fatalf("exec %v, want %v", *got, want)
	}
}

// TestRunNodeWithBootstrapFiles: an initialised data dir, a published
// address and a bootnode file: run-node is exec'd with the container
// defaults and the bootnode appended.
func TestRunNodeWithBootstrapFiles(t *testing.T) {
	clearEnv(t)
	got := capture(t)
	dir := filepath.Join(t.TempDir(), "data")
	os.Mkdir(dir, 0o755)
	if _, err := identity.Create(dir, identity.Options{AllowPlaintext: true}); err != nil {
		t.Fatal(err)
	}
	share := t.TempDir()
	t.Setenv("ONVM_DATA_DIR", dir)
	t.Setenv("ONVM_ALLOW_PLAINTEXT_IDENTITY", "yes")
	t.Setenv("ONVM_PUBLISH_ADDR", "/dns4/onvm1/tcp/37000")
	t.Setenv("ONVM_PUBLISH_FILE", filepath.Join(share, "onvm1.addr"))
	t.Setenv("ONVM_BOOTNODES", "/ip4/10.0.0.9/tcp/1/p2p/12D3KooWQUX1oDS8r2v1q27bJ9TwHhuBDy7hJCX6SqgrkVLF1f27")
	t.Setenv("ONVM_BOOTNODE_FILES", filepath.Join(share, "onvm1.addr"))
	t.Setenv("ONVM_BOOTNODE_WAIT", "1s")
	if code := run([]string{"run-node", "--log-level", "debug"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	line, _ := os.ReadFile(filepath.Join(share, "onvm1.addr"))

	// The peer id computed from the file header equals libp2p's.
	pub, err := identity.Inspect(dir)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := crypto.UnmarshalEd25519PublicKey(pub.Node[:])
	want, _ := peer.IDFromPublicKey(k)
	if strings.TrimSpace(string(line)) != "/dns4/onvm1/tcp/37000/p2p/"+want.String() {
		t.Fatalf("published %q, peer id %s", line, want)
	}
	joined := strings.Join(*got, " ")
	for _, w := range []string{
		"/usr/local/bin/onvm run-node --log-level debug",
		"env:ONVM_RPC_BIND=0.0.0.0:8080",
		"env:ONVM_LISTEN=/ip4/0.0.0.0/tcp/37000",
		"env:ONVM_BOOTNODES=/ip4/10.0.0.9/tcp/1/p2p/12D3KooWQUX1oDS8r2v1q27bJ9TwHhuBDy7hJCX6SqgrkVLF1f27,/dns4/onvm1/tcp/37000/p2p/" + want.String(),
	} {
		if !strings.Contains(joined, w) {
			t.Errorf("exec %q lacks %q", joined, w)
		}
	}
	fi, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %v", fi.Mode().Perm())
	}
}

func TestBootnodeFileTimeout(t *testing.T) {
	start := time.Now()
	if _, err := readBootnodes([]string{filepath.Join(t.TempDir(), "never")}, 300*time.Millisecond); err == nil {
		t.Fatal("missing file accepted")
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("wait not bounded")
	}
}
