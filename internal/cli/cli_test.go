package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/onvm-network/onvm/internal/config"
)

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		args   []string
		want   int
		stderr string
	}{
		{"help", []string{"--help"}, 0, ""},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"unknown flag", []string{"init", "--nope"}, 2, "unknown flag: --nope"},
		{"missing required flag", []string{"get-blob", "--id", "x"}, 2, `required flag(s) "out" not set`},
		{"no passphrase and no terminal", []string{"init", "--data-dir", filepath.Join(dir, "a")}, 2, "an identity passphrase is needed"},
		{"bad log level", []string{"run-node", "--log-level", "loud", "--data-dir", dir}, 2, "--log-level"},
		{"runtime failure", []string{"run-node", "--data-dir", filepath.Join(dir, "none")}, 1, "identity not found"},
		{"bad rpc", []string{"get-blob", "--rpc", "", "--id", "x", "--out", "y"}, 2, "--rpc"},
		{"rpc scheme", []string{"get-blob", "--rpc", "ftp://h:1", "--id", "x", "--out", "y"}, 2, `scheme "ftp" is not http or https`},
		{"rpc port", []string{"get-blob", "--rpc", "h:99999", "--id", "x", "--out", "y"}, 2, `port "99999" is not 1-65535`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			got := Main(t.Context(), tt.args, strings.NewReader(""), &stdout, &stderr)
			if got != tt.want {
				t.Errorf("exit %d, want %d; stderr: %s", got, tt.want, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.stderr)
			}
		})
	}
}

// TestConfigPrecedence checks flags > ONVM_* environment > config.toml >
// defaults, one setting per layer.
func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := `
[network]
min_peers = 2
[rpc]
listen = "127.0.0.1:1111"
idle_timeout = "5s"
[storage]
blob_sync_mode = "metadata"
`
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	environ := map[string]string{
		"ONVM_MIN_PEERS": "3",
		"ONVM_RPC":       "127.0.0.1:2222",
		"ONVM_BOOTNODES": "/ip4/1.1.1.1/tcp/1/p2p/12D3KooWQUX1oDS8r2v1q27bJ9TwHhuBDy7hJCX6SqgrkVLF1f27",
	}
	e := &env{getenv: func(k string) string { return environ[k] }}
	cmd := e.runNodeCommand()
	if err := cmd.ParseFlags([]string{"--min-peers", "4", "--bootnode", "/ip4/2.2.2.2/tcp/2/p2p/12D3KooWQUX1oDS8r2v1q27bJ9TwHhuBDy7hJCX6SqgrkVLF1f27,/ip4/3.3.3.3/tcp/3/p2p/12D3KooWQUX1oDS8r2v1q27bJ9TwHhuBDy7hJCX6SqgrkVLF1f27"}); err != nil {
		t.Fatal(err)
	}
	got, path, err := e.loadConfig(cmd, dir)
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "config.toml") {
		t.Errorf("config path %q", path)
	}
	want := config.Default()
	want.Network.MinPeers = 4              // flag over env over file
	want.RPC.Listen = "127.0.0.1:2222"     // env over file
	want.RPC.IdleTimeout = 5 * time.Second // file over default
	want.Storage.BlobSyncMode = "metadata" // file over default
	want.Network.Bootnodes = []string{     // flag (comma-separated) over env
		"/ip4/2.2.2.2/tcp/2/p2p/12D3KooWQUX1oDS8r2v1q27bJ9TwHhuBDy7hJCX6SqgrkVLF1f27",
		"/ip4/3.3.3.3/tcp/3/p2p/12D3KooWQUX1oDS8r2v1q27bJ9TwHhuBDy7hJCX6SqgrkVLF1f27",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	// The --rpc flag beats ONVM_RPC; ":port" is accepted.
	cmd = e.runNodeCommand()
	cmd.ParseFlags([]string{"--rpc", ":3333"})
	got, _, err = e.loadConfig(cmd, dir)
	if err != nil || got.RPC.Listen != ":3333" {
		t.Errorf("rpc.listen = %q, %v", got.RPC.Listen, err)
	}
}

func TestMainIsCancellable(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // a node started with a cancelled context stops at once, cleanly
	code := Main(ctx, []string{"run-node", "--dev", "--data-dir", dir, "--rpc", "127.0.0.1:0",
		"--listen", "/ip4/127.0.0.1/tcp/0"}, strings.NewReader(""), &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "Node stopped.") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
	}
}
