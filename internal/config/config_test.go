package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite docs/config.md")

func TestTemplateRoundTrip(t *testing.T) {
	want := Default()
	got, err := Parse([]byte(Template(want)), "template")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse(Template(Default())) differs (-want +got):\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

func TestTemplateMentionsEveryKey(t *testing.T) {
	c := Default()
	tmpl := Template(c)
	for _, f := range fields(&c) {
		if f.Doc == "" || len(f.Env) == 0 || f.Key == "" {
			t.Errorf("%s: every setting needs toml, env and doc tags", f.Name())
		}
		if !strings.Contains(tmpl, "\n"+f.Key+" = ") {
			t.Errorf("template lacks %s", f.Name())
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		toml    string
		check   func(Config) bool
		wantErr string
	}{
		{name: "empty file means defaults", toml: "", check: func(c Config) bool { return cmp.Equal(c, Default()) }},
		{name: "overrides one key", toml: "[rpc]\nlisten = \"127.0.0.1:9999\"\n",
			check: func(c Config) bool { return c.RPC.Listen == "127.0.0.1:9999" && c.RPC.MaxBlobSize == 1<<30 }},
		{name: "duration string", toml: "[rpc]\nshutdown_grace = \"3s\"\n",
			check: func(c Config) bool { return c.RPC.ShutdownGrace == 3*time.Second }},
		{name: "unknown key names it", toml: "[rpc]\nlisen = \"x\"\n", wantErr: `unknown key "rpc.lisen"`},
		{name: "unknown section names it", toml: "[genesis]\nstate_root = \"\"\n", wantErr: `"genesis"`},
		{name: "wrong type", toml: "[network]\nmin_peers = \"three\"\n", wantErr: "min_peers"},
		{name: "bad duration", toml: "[rpc]\nidle_timeout = \"soon\"\n", wantErr: "soon"},
		{name: "not toml", toml: "[[[", wantErr: "parse config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.toml), "config.toml")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("unexpected config %+v", c)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want ErrNotExist", err)
	}
}

func TestApplyEnv(t *testing.T) {
	env := map[string]string{
		"ONVM_RPC_BIND":         "127.0.0.1:1111", // alias, loses to ONVM_RPC
		"ONVM_RPC":              ":2222",
		"ONVM_BOOTNODES":        " /ip4/1.2.3.4/tcp/1/p2p/x , ,/ip4/5.6.7.8/tcp/2/p2p/y",
		"ONVM_ENABLE_MDNS":      "true",
		"ONVM_MIN_PEERS":        "3",
		"ONVM_RPC_IDLE_TIMEOUT": "5s",
	}
	c := Default()
	if err := c.ApplyEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.RPC.Listen = ":2222"
	want.Network.Bootnodes = []string{"/ip4/1.2.3.4/tcp/1/p2p/x", "/ip4/5.6.7.8/tcp/2/p2p/y"}
	want.Network.EnableMDNS = true
	want.Network.MinPeers = 3
	want.RPC.IdleTimeout = 5 * time.Second
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	bad := Default()
	err := bad.ApplyEnv(func(k string) string {
		if k == "ONVM_MIN_PEERS" {
			return "many"
		}
		return ""
	})
	if err == nil || !strings.Contains(err.Error(), "ONVM_MIN_PEERS") {
		t.Errorf("err = %v, want one naming ONVM_MIN_PEERS", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"sync mode", func(c *Config) { c.Storage.BlobSyncMode = "some" }, "blob_sync_mode"},
		{"listen multiaddr", func(c *Config) { c.Network.Listen = []string{"tcp/1"} }, "network.listen"},
		{"no listen", func(c *Config) { c.Network.Listen = nil }, "network.listen"},
		{"rpc listen", func(c *Config) { c.RPC.Listen = "nope" }, "rpc.listen"},
		{"zero timeout", func(c *Config) { c.RPC.ReadTimeout = 0 }, "rpc.read_timeout"},
		{"max blob", func(c *Config) { c.RPC.MaxBlobSize = 0 }, "max_blob_size"},
		{"min peers", func(c *Config) { c.Network.MinPeers = -1 }, "min_peers"},
		{"validator not a node id", func(c *Config) { c.Network.Validators = []string{"12D3KooW"} }, "network.validators"},
		{"jobs", func(c *Config) { c.Jobs.MaxConcurrent = -1 }, "max_concurrent"},
		{"jobs pending", func(c *Config) { c.Jobs.MaxPending = 0 }, "max_pending"},
		{"jobs retry", func(c *Config) { c.Jobs.RetryMax = c.Jobs.RetryBase / 2 }, "retry_base"},
		{"jobs output", func(c *Config) { c.Jobs.MaxOutput = 0 }, "max_output"},
		{"jobs logs", func(c *Config) { c.Jobs.MaxLogBytes = 10 }, "max_log_bytes"},
		{"committee of 0", func(c *Config) { c.Execution.CommitteeSize = 0 }, "committee_size"},
		{"committee of 65", func(c *Config) { c.Execution.CommitteeSize = 65 }, "committee_size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.modify(&c)
			err := c.Validate()
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrInvalid about %s", err, tt.want)
			}
		})
	}
}

func TestNormalizeListen(t *testing.T) {
	tests := []struct{ in, want string }{
		{":8080", "127.0.0.1:8080"},
		{"127.0.0.1:8080", "127.0.0.1:8080"},
		{"http://127.0.0.1:9000/", "127.0.0.1:9000"},
		{"0.0.0.0:0", "0.0.0.0:0"},
		{"[::1]:80", "[::1]:80"},
		{"localhost", ""},
		{":http-nope", ""},
	}
	for _, tt := range tests {
		got, err := NormalizeListen(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("NormalizeListen(%q) = %q, want error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeListen(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestSet(t *testing.T) {
	c := Default()
	if err := c.Set("network.bootnodes", "a,b"); err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(c.Network.Bootnodes, []string{"a", "b"}) {
		t.Errorf("bootnodes = %q", c.Network.Bootnodes)
	}
	if err := c.Set("network.nope", "1"); err == nil {
		t.Error("unknown setting accepted")
	}
}

// TestDocsConfigUpToDate fails when docs/config.md is not what Markdown
// generates; run with -update to rewrite it.
func TestDocsConfigUpToDate(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "config.md")
	want := Markdown()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("docs/config.md is stale; run go test ./internal/config -update (-want +got):\n%s", diff)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(Template(Default())))
	f.Add([]byte("[rpc]\nlisten = 1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b, "fuzz")
		if err != nil {
			return
		}
		_ = c.Validate()
		_ = Template(c)
	})
}
