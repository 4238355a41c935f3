// Package config defines the node's config.toml: the settings, their
// defaults, strict decoding, the ONVM_* environment overlay, validation, and
// the generated documentation (docs/config.md) and commented default file.
//
// Every setting is a field of Config with its default set by Default and
// documented in its `doc` tag; Template and Markdown are generated from those
// tags so the file written by `onvm init` and docs/config.md cannot drift.
//
// The package does no I/O besides reading the file given to Load; it must not
// import node, api or cli (it sits below them).
package config

import (
	"time"
)

// Config is the whole of config.toml. The zero value is not useful; start
// from Default.
type Config struct {
	Network Network `toml:"network" doc:"Peer-to-peer networking (libp2p)."`
	RPC     RPC     `toml:"rpc" doc:"The HTTP JSON API."`
	Storage Storage `toml:"storage" doc:"Local storage of blobs."`
	Jobs    Jobs    `toml:"jobs" doc:"Asynchronous jobs."`

	Execution Execution `toml:"execution" doc:"Program executions (POST /execute) and committees."`

	RPCAuth RPCAuth `toml:"rpc_auth" doc:"Authentication of API requests with project credentials (docs/security.md). --dev turns it off."`
}

// Network configures the libp2p host.
type Network struct {
	Listen     []string `toml:"listen" env:"ONVM_LISTEN" doc:"P2P listen multiaddrs (TCP, QUIC). When a TCP or UDP port is taken, by this or another process, the next free port is used (at most 100 up); a port is never shared."`
	MinPeers   int      `toml:"min_peers" env:"ONVM_MIN_PEERS" doc:"Connected ONVM peers needed before the node accepts executions and job submissions (503 min_peers below it). 0: never wait."`
	Bootnodes  []string `toml:"bootnodes" env:"ONVM_BOOTNODES" doc:"Peers to connect to at start, as multiaddrs ending in /p2p/<peer id>. Invalid entries are skipped with a warning."`
	EnableMDNS bool     `toml:"enable_mdns" env:"ONVM_ENABLE_MDNS" doc:"Discover and connect to peers on the local network with mDNS."`
	// ValidatorTimeout: see replica.ValidatorSet.
	ValidatorTimeout time.Duration `toml:"validator_timeout" env:"ONVM_VALIDATOR_TIMEOUT" doc:"A validator not heard from for this long is no longer chosen for new program committees. Every node sends a heartbeat every fifth of it. At least 5s."`
	// Validators: see replica.ValidatorSet.Restrict.
	Validators []string `toml:"validators" env:"ONVM_VALIDATORS" doc:"Node ids (64 hex digits, as GET /health shows them) allowed to sit on program committees: a closed network's allow-list (other registered nodes still replicate and forward their clients' executions). Every node of the network must be given the same list. Empty: every registered validator."`
}

// RPC configures the HTTP API server.
type RPC struct {
	Listen            string        `toml:"listen" env:"ONVM_RPC,ONVM_RPC_BIND" doc:"Address of the HTTP API (host:port; \":8080\" means 127.0.0.1:8080). When the port is taken, the next free port is used."`
	MaxBlobSize       int64         `toml:"max_blob_size" env:"ONVM_RPC_MAX_BLOB_SIZE" doc:"Largest blob accepted by POST /blobs, in bytes. Larger uploads get 413."`
	ReadHeaderTimeout time.Duration `toml:"read_header_timeout" env:"ONVM_RPC_READ_HEADER_TIMEOUT" doc:"Time allowed to read a request's headers."`
	ReadTimeout       time.Duration `toml:"read_timeout" env:"ONVM_RPC_READ_TIMEOUT" doc:"Time allowed to read a whole request body, except on streaming blob routes."`
	WriteTimeout      time.Duration `toml:"write_timeout" env:"ONVM_RPC_WRITE_TIMEOUT" doc:"Time allowed to write a whole response, except on streaming blob routes."`
	IdleTimeout       time.Duration `toml:"idle_timeout" env:"ONVM_RPC_IDLE_TIMEOUT" doc:"How long an idle keep-alive connection stays open."`
	StreamIdleTimeout time.Duration `toml:"stream_idle_timeout" env:"ONVM_RPC_STREAM_IDLE_TIMEOUT" doc:"On streaming blob routes, the longest a body read or write may make no progress."`
	StreamMinRate     int64         `toml:"stream_min_rate" env:"ONVM_RPC_STREAM_MIN_RATE" doc:"On streaming blob routes, the lowest average transfer rate in bytes per second, after a grace period of stream_idle_timeout. 0 disables the rule."`
	MaxHeaderBytes    int           `toml:"max_header_bytes" env:"ONVM_RPC_MAX_HEADER_BYTES" doc:"Largest request header block, in bytes (431 in JSON above it; net/http cuts at twice this)."`
	ShutdownGrace     time.Duration `toml:"shutdown_grace" env:"ONVM_RPC_SHUTDOWN_GRACE" doc:"On shutdown, how long in-flight requests may take to finish before their connections are closed."`

	TLSCert     string   `toml:"tls_cert" env:"ONVM_RPC_TLS_CERT" doc:"PEM certificate (chain) file; with tls_key the API serves HTTPS only. Relative to the data directory unless absolute. Empty: plain HTTP."`
	TLSKey      string   `toml:"tls_key" env:"ONVM_RPC_TLS_KEY" doc:"PEM private key file of tls_cert (mode 0600). Relative to the data directory unless absolute."`
	CORSOrigins []string `toml:"cors_allowed_origins" env:"ONVM_RPC_CORS_ORIGINS" doc:"Browser origins (exact scheme://host[:port]) allowed to call the API cross-origin; preflights are answered for them only and credentials are never allowed. Empty: no CORS headers at all."`
	UI          bool     `toml:"ui" env:"ONVM_RPC_UI" doc:"Serve the web dashboard at /ui/ (GET / redirects there, /explorer to its blob view) and the OpenAPI document at /openapi.json. The dashboard is static files embedded in the binary; the API calls it makes are signed like any other client's."`
}

// Storage configures local storage.
type Storage struct {
	BlobSyncMode string `toml:"blob_sync_mode" env:"ONVM_BLOB_SYNC_MODE" doc:"\"full\" replicates announced blobs; \"metadata\" stores only their metadata and fetches content on demand."`
}

// Jobs configures the job scheduler.
type Jobs struct {
	MaxConcurrent int           `toml:"max_concurrent" env:"ONVM_JOBS_MAX_CONCURRENT" doc:"Jobs run at the same time (the worker pool); 0 means one per CPU core. Reported as capacity by /health/readiness."`
	MaxPending    int           `toml:"max_pending" env:"ONVM_JOBS_MAX_PENDING" doc:"Jobs waiting to run (queued or in retry backoff) before POST /jobs answers 503 queue_full."`
	RetryBase     time.Duration `toml:"retry_base" env:"ONVM_JOBS_RETRY_BASE" doc:"Delay before a job's first retry after a transient failure; it doubles with each retry (with jitter), counted from the failure."`
	RetryMax      time.Duration `toml:"retry_max" env:"ONVM_JOBS_RETRY_MAX" doc:"Longest delay between two retries of a job."`
	MaxOutput     int64         `toml:"max_output" env:"ONVM_JOBS_MAX_OUTPUT" doc:"Largest job output in bytes; a larger one fails the job (output_too_large) and commits nothing."`
	MaxLogBytes   int64         `toml:"max_log_bytes" env:"ONVM_JOBS_MAX_LOG_BYTES" doc:"Log bytes kept per job (scheduler entries and guest output over all its attempts); the rest is dropped after a truncation note."`
}

// Execution bounds program executions. Fuel and input limits never change
// a successful result (fuel is deterministic); they only decide which
// executions fail.
type Execution struct {
	DefaultFuel        int64         `toml:"default_fuel" env:"ONVM_EXEC_DEFAULT_FUEL" doc:"Fuel budget of an execution whose request names none (fuel_limit)."`
	MaxFuel            int64         `toml:"max_fuel" env:"ONVM_EXEC_MAX_FUEL" doc:"Largest fuel budget a request may ask for; larger requests are capped to it."`
	Timeout            time.Duration `toml:"timeout" env:"ONVM_EXEC_TIMEOUT" doc:"Wall-clock limit of an execution whose request names none (timeout_ms); the guest is stopped and nothing is committed."`
	MaxTimeout         time.Duration `toml:"max_timeout" env:"ONVM_EXEC_MAX_TIMEOUT" doc:"Largest wall-clock limit a request may ask for."`
	MaxInput           int64         `toml:"max_input" env:"ONVM_EXEC_MAX_INPUT" doc:"Largest execution input in bytes; larger inputs get 413."`
	CompileConcurrency int           `toml:"compile_concurrency" env:"ONVM_EXEC_COMPILE_CONCURRENCY" doc:"Programs compiled at the same time (each keeps a core busy); more wait. 0 means half the CPU cores, at least one."`
	CompileWait        time.Duration `toml:"compile_wait" env:"ONVM_EXEC_COMPILE_WAIT" doc:"How long a deploy waits for its program to compile on this node before it answers; the compilation goes on after it, and executions meanwhile answer 503 compiling (Retry-After) within their timeout instead of waiting."`
	CommitteeSize      int           `toml:"committee_size" env:"ONVM_COMMITTEE_SIZE" doc:"k: a program deployed here gets a committee of min(k, live validators). With k > 1 the members agree on every transition (Tendermint rounds over /onvm/agree/1.0.0) and it is final with the signatures of more than two thirds of them, so the program keeps running while fewer than a third are down. At most 64."`
}

// RPCAuth configures project authentication (the original's [rpc_auth]
// keys, with its millisecond units).
type RPCAuth struct {
	Enable         bool     `toml:"enable_rpc_auth" env:"ONVM_RPC_AUTH_ENABLE" doc:"Require signed requests (HMAC-SHA256 with a project secret) on every route but /health, /health/liveness and /health/readiness. On unless --dev; a missing config file does not turn it off."`
	SecretPath     string   `toml:"secret_path" env:"ONVM_RPC_AUTH_SECRET_PATH" doc:"Master secret file (encrypted with the identity passphrase, created at first start), relative to the data directory unless absolute. Project secrets in the database are sealed under it."`
	SkewMs         int64    `toml:"skew_ms" env:"ONVM_RPC_AUTH_SKEW_MS" doc:"How far x-timestamp may be from the node's clock, either way, in milliseconds."`
	NonceTTLMs     int64    `toml:"nonce_ttl_ms" env:"ONVM_RPC_AUTH_NONCE_TTL_MS" doc:"Least time a used nonce is remembered, in milliseconds; a nonce is always kept until its timestamp leaves the skew window, so a smaller value cannot enable a replay."`
	NonceCapacity  int      `toml:"nonce_capacity" env:"ONVM_RPC_AUTH_NONCE_CAPACITY" doc:"Nonces remembered per project; a project that used this many within the window gets 429 until they expire (entries are never evicted early)."`
	RatePerMinute  int      `toml:"rate_limit_per_minute" env:"ONVM_RPC_AUTH_RATE_LIMIT_PER_MINUTE" doc:"Sustained signed requests per minute per project (token bucket), every route counted; 0 means no limit. Any rate of 1 or more works."`
	RateBurst      int      `toml:"rate_limit_burst" env:"ONVM_RPC_AUTH_RATE_LIMIT_BURST" doc:"Requests a project may make at once before the rate applies; 0 means max(1, rate_limit_per_minute/30)."`
	MaxExecutions  int      `toml:"max_executions_in_flight" env:"ONVM_RPC_AUTH_MAX_EXECUTIONS_IN_FLIGHT" doc:"Executions (POST /execute) one project may have running or waiting on this node at once; another gets 429 too_many_in_flight. 0 means no limit."`
	MaxDeploys     int      `toml:"max_deploys_in_flight" env:"ONVM_RPC_AUTH_MAX_DEPLOYS_IN_FLIGHT" doc:"Deploys (POST /programs: validation, instrumentation, compilation) one project may have in progress on this node at once; another gets 429 too_many_in_flight. 0 means no limit."`
	AllowedMethods []string `toml:"allowed_methods" env:"ONVM_RPC_AUTH_ALLOWED_METHODS" doc:"When not empty, the only HTTP methods accepted on authenticated routes (others get 405)."`
	MaxBodySize    int64    `toml:"max_body_size" env:"ONVM_RPC_AUTH_MAX_BODY_SIZE" doc:"Largest body of an authenticated non-streaming request, in bytes; it is buffered to check its hash before the handler runs. Blob uploads stream and are bounded by rpc.max_blob_size instead."`
	PublicMetrics  bool     `toml:"public_metrics" env:"ONVM_RPC_AUTH_PUBLIC_METRICS" doc:"Serve /metrics and /health/metrics without a signature, for Prometheus scrapers."`
}

// MaxCommitteeSize bounds execution.committee_size: every member checks
// every other member's signatures on every height.
const MaxCommitteeSize = 64

// Blob sync modes.
const (
	SyncFull     = "full"
	SyncMetadata = "metadata"
)

// DefaultRPCListen and DefaultP2PListen are the original's addresses.
const (
	DefaultRPCListen = "127.0.0.1:8080"
	DefaultP2PListen = "/ip4/0.0.0.0/tcp/37000"
)

// Default returns the configuration used when config.toml sets nothing.
func Default() Config {
	return Config{
		Network: Network{
			Listen:           []string{DefaultP2PListen},
			MinPeers:         0, // a lone node is a whole network; multi-node deployments set it
			ValidatorTimeout: 5 * time.Minute,
			Validators:       []string{},
			Bootnodes:        []string{},
			EnableMDNS:       false,
		},
		RPC: RPC{
			Listen:            DefaultRPCListen,
			MaxBlobSize:       1 << 30,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       120 * time.Second,
			StreamIdleTimeout: 30 * time.Second,
			StreamMinRate:     16 << 10,
			MaxHeaderBytes:    64 << 10,
			ShutdownGrace:     10 * time.Second,
			CORSOrigins:       []string{},
			UI:                true,
		},
		Storage: Storage{BlobSyncMode: SyncFull},
		Jobs: Jobs{MaxConcurrent: 0, MaxPending: 100_000, RetryBase: time.Second, RetryMax: 5 * time.Minute,
			MaxOutput: 1 << 20, MaxLogBytes: 64 << 10},
		RPCAuth: RPCAuth{
			Enable:         true,
			SecretPath:     "rpc_auth.secret",
			SkewMs:         300_000,
			NonceTTLMs:     600_000,
			NonceCapacity:  100_000,
			RatePerMinute:  1200, // 20 a second per project; see docs/security.md "Limits"
			RateBurst:      0,
			MaxExecutions:  8, // see docs/security.md "Limits"
			MaxDeploys:     2,
			AllowedMethods: []string{},
			MaxBodySize:    32 << 20,
			PublicMetrics:  false,
		},
		Execution: Execution{
			DefaultFuel:        50_000_000,
			MaxFuel:            500_000_000,
			Timeout:            30 * time.Second,
			MaxTimeout:         5 * time.Minute,
			MaxInput:           1 << 20,
			CompileConcurrency: 0, // half the cores
			CompileWait:        10 * time.Second,
			CommitteeSize:      1, // see RATIONALE: why the default committee is still one node
		},
	}
}
