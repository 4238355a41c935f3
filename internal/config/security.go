package config

import (
	"fmt"
	"net/url"
	"strings"
)

// validateSecurity checks the [rpc_auth] section and the API's TLS and CORS
// keys.
func (c *Config) validateSecurity() error {
	bad := func(name, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalid, name, fmt.Sprintf(format, args...))
	}
	a := c.RPCAuth
	if a.Enable && strings.TrimSpace(a.SecretPath) == "" {
		return bad("rpc_auth.secret_path", "must not be empty when enable_rpc_auth is true")
	}
	if a.SkewMs < 1000 || a.SkewMs > 24*3600*1000 {
		return bad("rpc_auth.skew_ms", "must be from 1000 (1 s) to 86400000 (1 day)")
	}
	if a.NonceTTLMs < 0 {
		return bad("rpc_auth.nonce_ttl_ms", "must not be negative")
	}
	if a.NonceCapacity < 1 {
		return bad("rpc_auth.nonce_capacity", "must be at least 1")
	}
	if a.RatePerMinute < 0 {
		return bad("rpc_auth.rate_limit_per_minute", "must not be negative (0 means no limit)")
	}
	if a.RateBurst < 0 {
		return bad("rpc_auth.rate_limit_burst", "must not be negative (0 means the default)")
	}
	if a.MaxExecutions < 0 {
		return bad("rpc_auth.max_executions_in_flight", "must not be negative (0 means no limit)")
	}
	if a.MaxDeploys < 0 {
		return bad("rpc_auth.max_deploys_in_flight", "must not be negative (0 means no limit)")
	}
	for _, m := range a.AllowedMethods {
		if m == "" || strings.IndexFunc(m, func(r rune) bool { return r < 'A' || r > 'Z' && (r < 'a' || r > 'z') }) >= 0 {
			return bad("rpc_auth.allowed_methods", "%q is not an HTTP method", m)
		}
	}
	if a.MaxBodySize < 1024 {
		return bad("rpc_auth.max_body_size", "must be at least 1024")
	}
	if (c.RPC.TLSCert == "") != (c.RPC.TLSKey == "") {
		return bad("rpc.tls_cert", "tls_cert and tls_key must be set together")
	}
	for _, o := range c.RPC.CORSOrigins {
		if err := checkOrigin(o); err != nil {
			return bad("rpc.cors_allowed_origins", "%v", err)
		}
	}
	return nil
}

// checkOrigin accepts an exact origin: http or https, a host, an optional
// port, nothing else. "*" is refused: CORS is an allow-list.
func checkOrigin(o string) error {
	if o == "*" {
		return fmt.Errorf(`"*" is not allowed; list exact origins such as https://app.example.com`)
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.Opaque != "" {
		return fmt.Errorf("%q is not an origin (scheme://host[:port])", o)
	}
	return nil
}
