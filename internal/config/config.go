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
}

// Network configures the libp2p host.
type Network struct {
	Listen     []string `toml:"listen" env:"ONVM_LISTEN" doc:"P2P listen multiaddrs. When a TCP port is taken, the next free port is used."`
	MinPeers   int      `toml:"min_peers" env:"ONVM_MIN_PEERS" doc:"Minimum number of connected peers before the node accepts executions."`
	Bootnodes  []string `toml:"bootnodes" env:"ONVM_BOOTNODES" doc:"Peers to connect to at start, as multiaddrs ending in /p2p/<peer id>. Invalid entries are skipped with a warning."`
	EnableMDNS bool     `toml:"enable_mdns" env:"ONVM_ENABLE_MDNS" doc:"Discover and connect to peers on the local network with mDNS."`
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
	MaxHeaderBytes    int           `toml:"max_header_bytes" env:"ONVM_RPC_MAX_HEADER_BYTES" doc:"Largest request header block, in bytes."`
	ShutdownGrace     time.Duration `toml:"shutdown_grace" env:"ONVM_RPC_SHUTDOWN_GRACE" doc:"On shutdown, how long in-flight requests may take to finish before their connections are closed."`
}

// Storage configures local storage.
type Storage struct {
	BlobSyncMode string `toml:"blob_sync_mode" env:"ONVM_BLOB_SYNC_MODE" doc:"\"full\" replicates announced blobs; \"metadata\" stores only their metadata and fetches content on demand."`
}

// Jobs configures the job scheduler.
type Jobs struct {
	MaxConcurrent int `toml:"max_concurrent" env:"ONVM_JOBS_MAX_CONCURRENT" doc:"Jobs run at the same time; reported as capacity by /health/readiness."`
}

// Execution bounds program executions. Fuel and input limits never change
// a successful result (fuel is deterministic); they only decide which
// executions fail.
type Execution struct {
	DefaultFuel   int64         `toml:"default_fuel" env:"ONVM_EXEC_DEFAULT_FUEL" doc:"Fuel budget of an execution whose request names none (fuel_limit)."`
	MaxFuel       int64         `toml:"max_fuel" env:"ONVM_EXEC_MAX_FUEL" doc:"Largest fuel budget a request may ask for; larger requests are capped to it."`
	Timeout       time.Duration `toml:"timeout" env:"ONVM_EXEC_TIMEOUT" doc:"Wall-clock limit of an execution whose request names none (timeout_ms); the guest is stopped and nothing is committed."`
	MaxTimeout    time.Duration `toml:"max_timeout" env:"ONVM_EXEC_MAX_TIMEOUT" doc:"Largest wall-clock limit a request may ask for."`
	MaxInput      int64         `toml:"max_input" env:"ONVM_EXEC_MAX_INPUT" doc:"Largest execution input in bytes; larger inputs get 413."`
	CommitteeSize int           `toml:"committee_size" env:"ONVM_COMMITTEE_SIZE" doc:"k: a program deployed here gets a committee of min(k, registered validators)."`
}

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
			Listen:     []string{DefaultP2PListen},
			MinPeers:   1,
			Bootnodes:  []string{},
			EnableMDNS: false,
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
		},
		Storage: Storage{BlobSyncMode: SyncFull},
		Jobs:    Jobs{MaxConcurrent: 10},
		Execution: Execution{
			DefaultFuel:   50_000_000,
			MaxFuel:       500_000_000,
			Timeout:       30 * time.Second,
			MaxTimeout:    5 * time.Minute,
			MaxInput:      1 << 20,
			CommitteeSize: 4,
		},
	}
}
