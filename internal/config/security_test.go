package config

import (
	"errors"
	"strings"
	"testing"
)

// TestSecurityPrecedence: for the [rpc_auth] and TLS/CORS keys, Set (flags)
// beats the environment, which beats the file, which beats the defaults.
func TestSecurityPrecedence(t *testing.T) {
	file := `
[rpc]
tls_cert = "file.pem"
tls_key = "file.key"
cors_allowed_origins = ["https://a.example"]

[rpc_auth]
enable_rpc_auth = false
skew_ms = 1000
nonce_capacity = 5
rate_limit_per_minute = 10
allowed_methods = ["GET"]
`
	c, err := Parse([]byte(file), "test.toml")
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	if !d.RPCAuth.Enable || d.RPCAuth.SkewMs != 300_000 || d.RPC.TLSCert != "" {
		t.Fatalf("defaults: %+v", d.RPCAuth)
	}
	if c.RPCAuth.Enable || c.RPCAuth.SkewMs != 1000 || c.RPCAuth.NonceCapacity != 5 || c.RPC.TLSCert != "file.pem" {
		t.Fatalf("file not applied: %+v %+v", c.RPCAuth, c.RPC)
	}
	env := map[string]string{
		"ONVM_RPC_AUTH_ENABLE":                "true",
		"ONVM_RPC_AUTH_SKEW_MS":               "2000",
		"ONVM_RPC_AUTH_RATE_LIMIT_PER_MINUTE": "20",
		"ONVM_RPC_TLS_CERT":                   "env.pem",
		"ONVM_RPC_CORS_ORIGINS":               "https://b.example, http://localhost:3000",
	}
	if err := c.ApplyEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if !c.RPCAuth.Enable || c.RPCAuth.SkewMs != 2000 || c.RPCAuth.RatePerMinute != 20 || c.RPC.TLSCert != "env.pem" ||
		c.RPC.TLSKey != "file.key" || len(c.RPC.CORSOrigins) != 2 || c.RPCAuth.NonceCapacity != 5 {
		t.Fatalf("env not applied over file: %+v %+v", c.RPCAuth, c.RPC)
	}
	for k, v := range map[string]string{"rpc_auth.skew_ms": "3000", "rpc.tls_cert": "flag.pem", "rpc_auth.enable_rpc_auth": "false"} {
		if err := c.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if c.RPCAuth.Enable || c.RPCAuth.SkewMs != 3000 || c.RPC.TLSCert != "flag.pem" {
		t.Fatalf("flags not applied over env: %+v", c.RPCAuth)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestSecurityUnknownKeys(t *testing.T) {
	for _, file := range []string{
		"[rpc_auth]\nproject_id = \"default-project\"\n",
		"[rpc_auth]\nsecondary_secret_path = \"x\"\n",
		"[rpc]\ntls_certificate = \"x\"\n",
	} {
		_, err := Parse([]byte(file), "t.toml")
		key := strings.TrimSpace(strings.Split(strings.Split(file, "\n")[1], "=")[0])
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: err = %v, want one naming %s", file, err, key)
		}
	}
}

func TestSecurityValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		key  string
	}{
		{"skew too small", func(c *Config) { c.RPCAuth.SkewMs = 10 }, "rpc_auth.skew_ms"},
		{"negative ttl", func(c *Config) { c.RPCAuth.NonceTTLMs = -1 }, "rpc_auth.nonce_ttl_ms"},
		{"zero capacity", func(c *Config) { c.RPCAuth.NonceCapacity = 0 }, "rpc_auth.nonce_capacity"},
		{"negative rate", func(c *Config) { c.RPCAuth.RatePerMinute = -1 }, "rpc_auth.rate_limit_per_minute"},
		{"negative burst", func(c *Config) { c.RPCAuth.RateBurst = -1 }, "rpc_auth.rate_limit_burst"},
		{"bad method", func(c *Config) { c.RPCAuth.AllowedMethods = []string{"GE T"} }, "rpc_auth.allowed_methods"},
		{"tiny body", func(c *Config) { c.RPCAuth.MaxBodySize = 10 }, "rpc_auth.max_body_size"},
		{"no secret path", func(c *Config) { c.RPCAuth.SecretPath = "" }, "rpc_auth.secret_path"},
		{"cert without key", func(c *Config) { c.RPC.TLSCert = "c.pem" }, "rpc.tls_cert"},
		{"key without cert", func(c *Config) { c.RPC.TLSKey = "k.pem" }, "rpc.tls_cert"},
		{"cors star", func(c *Config) { c.RPC.CORSOrigins = []string{"*"} }, "rpc.cors_allowed_origins"},
		{"cors path", func(c *Config) { c.RPC.CORSOrigins = []string{"https://a.example/app"} }, "rpc.cors_allowed_origins"},
		{"cors scheme", func(c *Config) { c.RPC.CORSOrigins = []string{"ftp://a.example"} }, "rpc.cors_allowed_origins"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.edit(&c)
			err := c.Validate()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.key) {
				t.Fatalf("err = %v, want one naming %s", err, tt.key)
			}
		})
	}
	ok := Default()
	ok.RPCAuth.RatePerMinute = 1
	ok.RPCAuth.AllowedMethods = []string{"GET", "post"}
	ok.RPC.CORSOrigins = []string{"https://app.example.com", "http://localhost:5173"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestDefaultsThrottle: a production node throttles each project out of
// the box; only an explicit 0 turns the limit off.
func TestDefaultsThrottle(t *testing.T) {
	c := Default()
	if c.RPCAuth.RatePerMinute <= 0 {
		t.Fatalf("default rpc_auth.rate_limit_per_minute = %d, want a limit", c.RPCAuth.RatePerMinute)
	}
	off, err := Parse([]byte("[rpc_auth]\nrate_limit_per_minute = 0\n"), "off")
	if err != nil || off.RPCAuth.RatePerMinute != 0 {
		t.Fatalf("explicit 0: %v, %d", err, off.RPCAuth.RatePerMinute)
	}
}
