package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/onvm-network/onvm/internal/config"
	"github.com/onvm-network/onvm/internal/identity"
	"github.com/onvm-network/onvm/internal/node"
)

func (e *env) runNodeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run-node",
		Short: "Run a node until interrupted",
		Long: `run-node opens the data directory, starts the P2P host and the HTTP API, prints the
RPC URL and the P2P addresses, and runs until SIGINT or SIGTERM; then it stops accepting
requests, lets in-flight ones finish (rpc.shutdown_grace), closes its stores and exits 0.

Settings come from flags, else ONVM_* environment variables, else config.toml (--config,
relative to the data directory), else defaults; see docs/config.md. Ports that are taken
move up to the next free one.

--dev creates the data directory with a plaintext identity when it does not exist, needs
no passphrase, and marks the node as a development node (RPC authentication off).`,
		Example: "  onvm run-node --dev\n  onvm run-node --data-dir ./data --rpc :8080 --bootnode /ip4/10.0.0.2/tcp/37000/p2p/12D3KooW...",
		Args:    cobra.NoArgs,
		RunE:    e.runNode,
	}
	f := cmd.Flags()
	f.String("data-dir", "./data", "data directory (env ONVM_DATA_DIR)")
	f.StringSlice("listen", []string{config.DefaultP2PListen}, "P2P listen multiaddr, repeatable (env ONVM_LISTEN; network.listen)")
	f.String("rpc", config.DefaultRPCListen, "HTTP API address; \":8080\" means 127.0.0.1:8080 (env ONVM_RPC; rpc.listen)")
	f.String("api", "", "alias of --rpc")
	_ = f.MarkHidden("api")
	f.Int("min-peers", 0, "ONVM peers needed before executions and job submissions are accepted; 0 never waits (env ONVM_MIN_PEERS; network.min_peers)")
	f.String("blob-sync-mode", config.SyncFull, "full or metadata (env ONVM_BLOB_SYNC_MODE; storage.blob_sync_mode)")
	f.String("config", node.ConfigFile, "config file, relative to the data directory unless absolute (env ONVM_CONFIG)")
	f.String("rpc-tls-cert", "", "serve the API over HTTPS with this PEM certificate (env ONVM_RPC_TLS_CERT; rpc.tls_cert)")
	f.String("rpc-tls-key", "", "PEM private key of --rpc-tls-cert (env ONVM_RPC_TLS_KEY; rpc.tls_key)")
	f.StringSlice("bootnode", nil, "bootnode multiaddr ending in /p2p/<peer id>; repeatable or comma-separated (env ONVM_BOOTNODES)")
	addIdentityFlags(cmd)
	f.Bool("dev", false, "development node: create a plaintext data dir if absent, no passphrase (env ONVM_DEV)")
	return cmd
}

// flagSettings maps run-node flags to the config keys they override.
var flagSettings = []struct{ flag, key string }{
	{"listen", "network.listen"},
	{"rpc", "rpc.listen"},
	{"api", "rpc.listen"},
	{"min-peers", "network.min_peers"},
	{"blob-sync-mode", "storage.blob_sync_mode"},
	{"bootnode", "network.bootnodes"},
	{"rpc-tls-cert", "rpc.tls_cert"},
	{"rpc-tls-key", "rpc.tls_key"},
}

// loadConfig resolves the configuration: defaults, then the file, then the
// environment, then the flags given on the command line.
func (e *env) loadConfig(cmd *cobra.Command, dataDir string) (config.Config, string, error) {
	path := e.stringSetting(cmd, "config", "ONVM_CONFIG")
	explicit := cmd.Flags().Changed("config") || e.getenv("ONVM_CONFIG") != ""
	if !filepath.IsAbs(path) {
		path = filepath.Join(dataDir, path)
	}
	cfg, err := config.Load(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		cfg, path = config.Default(), ""
	case err != nil:
		return cfg, path, err
	}
	if err := cfg.ApplyEnv(e.getenv); err != nil {
		return cfg, path, err
	}
	for _, fs := range flagSettings {
		fl := cmd.Flags().Lookup(fs.flag)
		if !fl.Changed {
			continue
		}
		v := fl.Value.String()
		if sv, ok := fl.Value.(interface{ GetSlice() []string }); ok {
			v = strings.Join(sv.GetSlice(), ",")
		}
		if err := cfg.Set(fs.key, v); err != nil {
			return cfg, path, usageError{err: fmt.Errorf("--%s: %w", fs.flag, err)}
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, path, err
	}
	return cfg, path, nil
}

func (e *env) runNode(cmd *cobra.Command, _ []string) error {
	log, err := e.logger()
	if err != nil {
		return err
	}
	dir := e.stringSetting(cmd, "data-dir", "ONVM_DATA_DIR")
	dev := e.boolSetting(cmd, "dev", "ONVM_DEV")
	plaintext := dev || e.boolSetting(cmd, "allow-plaintext-identity", "ONVM_ALLOW_PLAINTEXT_IDENTITY")
	out := cmd.OutOrStdout()

	if dev {
		log.Warn("DEV MODE: plaintext identity allowed, RPC authentication off; never expose this node")
		if !node.IsInitialized(dir) {
			r, err := node.Init(node.InitOptions{DataDir: dir, AllowPlaintext: true})
			if err != nil {
				return fmt.Errorf("dev init %s: %w", dir, err)
			}
			printf(out, "Dev mode: initialized %s with a plaintext identity.\n", dir)
			log.Warn("DEV MODE: created data dir with a plaintext identity", "dir", dir, "config", r.ConfigPath)
		}
	}
	if !node.IsInitialized(dir) {
		return fmt.Errorf("identity not found at %s; run `onvm init --data-dir %s` first (or use --dev)",
			filepath.Join(dir, identity.IdentityFile), dir)
	}
	cfg, cfgPath, err := e.loadConfig(cmd, dir)
	if err != nil {
		return err
	}
	if cfgPath == "" {
		log.Info("no config file; using defaults", "dir", dir)
	}
	var pass []byte
	if enc, err := identity.Encrypted(dir); err == nil && enc {
		if pass, err = e.passphrase(cmd, false); err != nil {
			return err
		}
	}

	ctx := cmd.Context()
	n, err := node.New(ctx, node.Options{
		DataDir: dir, Config: cfg, Dev: dev, Passphrase: pass, AllowPlaintext: plaintext, Logger: log,
	})
	if err != nil {
		return err
	}
	defer func() { _ = n.Close() }() // idempotent; the checked Close is below
	printf(out, "Node started. Data dir: %s\n", dir)
	printf(out, "Node ID: %s\n", n.ID())
	printf(out, "Peer ID: %s\n", n.PeerID())
	printf(out, "RPC: %s\n", n.RPCURL())
	for _, a := range n.P2PAddrs() {
		printf(out, "P2P: %s\n", a)
	}
	log.Info("node started", "node", n.ID().String(), "peer", n.PeerID().String(), "rpc", n.RPCURL(),
		"min_peers", strconv.Itoa(cfg.Network.MinPeers), "blob_sync_mode", cfg.Storage.BlobSyncMode)
	if err := n.Run(ctx); err != nil {
		return err
	}
	if err := n.Close(); err != nil {
		return fmt.Errorf("close node: %w", err)
	}
	printLine(out, "Node stopped.")
	return nil
}
