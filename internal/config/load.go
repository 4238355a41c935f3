package config

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/multiformats/go-multiaddr"
)

// Load reads the TOML file at path over the defaults. Decoding is strict: a
// key that Config does not define is an error naming it. A missing file is
// an error wrapping fs.ErrNotExist; the caller decides whether that is fine.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Default(), fmt.Errorf("read config %s: %w", path, err)
	}
	return Parse(b, path)
}

// Parse decodes TOML bytes over the defaults; name labels errors.
func Parse(b []byte, name string) (Config, error) {
	c := Default()
	md, err := toml.Decode(string(b), &c)
	if err != nil {
		return Default(), fmt.Errorf("parse config %s: %w", name, errors.Join(ErrInvalid, err))
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = fmt.Sprintf("%q", k.String())
		}
		return Default(), fmt.Errorf("parse config %s: %w: unknown key %s", name, ErrInvalid, strings.Join(keys, ", "))
	}
	return c, nil
}

// ApplyEnv overlays the ONVM_* variables that getenv reports as set
// (non-empty). When a setting has several names the canonical (first) one
// wins.
func (c *Config) ApplyEnv(getenv func(string) string) error {
	for _, f := range fields(c) {
		for _, name := range f.Env {
			if s := getenv(name); s != "" {
				if err := f.set(s); err != nil {
					return fmt.Errorf("environment %s: %w", name, errors.Join(ErrInvalid, err))
				}
				break
			}
		}
	}
	return nil
}

// Set assigns one setting by its "section.key" name from its text form, as
// used for command-line flags.
func (c *Config) Set(name, value string) error {
	for _, f := range fields(c) {
		if f.Name() == name {
			if err := f.set(value); err != nil {
				return errors.Join(ErrInvalid, err)
			}
			return nil
		}
	}
	return fmt.Errorf("%w: unknown setting %q", ErrInvalid, name)
}

// Validate reports the first setting that cannot work.
// minValidatorTimeout keeps heartbeats (a fifth of the timeout) at most
// one a second.
const minValidatorTimeout = 5 * time.Second

func (c *Config) Validate() error {
	bad := func(name, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalid, name, fmt.Sprintf(format, args...))
	}
	if len(c.Network.Listen) == 0 {
		return bad("network.listen", "at least one address is needed")
	}
	for _, a := range c.Network.Listen {
		if _, err := multiaddr.NewMultiaddr(a); err != nil {
			return bad("network.listen", "%q is not a multiaddr: %v", a, err)
		}
	}
	if c.Network.ValidatorTimeout < minValidatorTimeout {
		return bad("network.validator_timeout", "%s: must be at least %s", c.Network.ValidatorTimeout, minValidatorTimeout)
	}
	for _, v := range c.Network.Validators {
		if b, err := hex.DecodeString(v); err != nil || len(b) != 32 {
			return bad("network.validators", "%q is not a node id (64 hex digits)", v)
		}
	}
	if c.Network.MinPeers < 0 {
		return bad("network.min_peers", "must not be negative")
	}
	if _, err := NormalizeListen(c.RPC.Listen); err != nil {
		return bad("rpc.listen", "%v", err)
	}
	if c.RPC.MaxBlobSize <= 0 {
		return bad("rpc.max_blob_size", "must be positive")
	}
	for name, d := range map[string]int64{
		"rpc.read_header_timeout": int64(c.RPC.ReadHeaderTimeout),
		"rpc.read_timeout":        int64(c.RPC.ReadTimeout),
		"rpc.write_timeout":       int64(c.RPC.WriteTimeout),
		"rpc.idle_timeout":        int64(c.RPC.IdleTimeout),
		"rpc.stream_idle_timeout": int64(c.RPC.StreamIdleTimeout),
		"rpc.shutdown_grace":      int64(c.RPC.ShutdownGrace),
	} {
		if d <= 0 {
			return bad(name, "must be a positive duration")
		}
	}
	if c.RPC.StreamMinRate < 0 {
		return bad("rpc.stream_min_rate", "must not be negative")
	}
	if c.RPC.MaxHeaderBytes < 1024 {
		return bad("rpc.max_header_bytes", "must be at least 1024")
	}
	if m := c.Storage.BlobSyncMode; m != SyncFull && m != SyncMetadata {
		return bad("storage.blob_sync_mode", "want %q or %q, got %q", SyncFull, SyncMetadata, m)
	}
	if j := c.Jobs; j.MaxConcurrent < 0 || j.MaxConcurrent > 4096 {
		return bad("jobs.max_concurrent", "must be from 0 (one per CPU core) to 4096")
	}
	if c.Jobs.MaxPending < 1 {
		return bad("jobs.max_pending", "must be at least 1")
	}
	if j := c.Jobs; j.RetryBase <= 0 || j.RetryMax < j.RetryBase {
		return bad("jobs.retry_base", "must be positive and at most jobs.retry_max")
	}
	if c.Jobs.MaxOutput < 1 || c.Jobs.MaxOutput > 64<<20 {
		return bad("jobs.max_output", "must be from 1 byte to 64 MiB")
	}
	if c.Jobs.MaxLogBytes < 1024 {
		return bad("jobs.max_log_bytes", "must be at least 1024")
	}
	if e := c.Execution; e.DefaultFuel < 1 || e.MaxFuel < e.DefaultFuel {
		return bad("execution.default_fuel", "must be at least 1 and at most execution.max_fuel")
	}
	if e := c.Execution; e.Timeout <= 0 || e.MaxTimeout < e.Timeout {
		return bad("execution.timeout", "must be positive and at most execution.max_timeout")
	}
	if c.Execution.MaxInput < 1 || c.Execution.MaxInput > 64<<20 {
		return bad("execution.max_input", "must be from 1 byte to 64 MiB")
	}
	if c.Execution.CompileConcurrency < 0 {
		return bad("execution.compile_concurrency", "must not be negative (0 means half the CPU cores)")
	}
	if c.Execution.CompileWait <= 0 {
		return bad("execution.compile_wait", "must be positive")
	}
	if c.Execution.CommitteeSize < 1 || c.Execution.CommitteeSize > MaxCommitteeSize {
		return bad("execution.committee_size", "must be from 1 to %d", MaxCommitteeSize)
	}
	return c.validateSecurity()
}

// NormalizeListen turns an RPC listen address into host:port: ":8080" means
// 127.0.0.1:8080 (the original's shorthand, never all interfaces), and an
// http:// prefix is dropped.
func NormalizeListen(s string) (string, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "http://")
	s = strings.TrimSuffix(s, "/")
	if strings.HasPrefix(s, ":") {
		s = "127.0.0.1" + s
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("%q is not host:port: %w", s, err)
	}
	if host == "" {
		return "", fmt.Errorf("%q has no host", s)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return "", fmt.Errorf("%q: bad port: %w", s, err)
	}
	return net.JoinHostPort(host, port), nil
}
