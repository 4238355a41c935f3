package cli

import (
	"crypto/ed25519"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/onvm-network/onvm/internal/identity"
	"github.com/onvm-network/onvm/internal/node"
	"github.com/onvm-network/onvm/internal/p2p"
)

func (e *env) initCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a data directory: node keys and a default config.toml",
		Long: `init creates the data directory (mode 0700) with the node's Ed25519 identity and BLS
consensus key, both encrypted with the identity passphrase (Argon2id + XChaCha20-Poly1305),
and a commented config.toml holding every default.

The passphrase comes from --identity-passphrase, ONVM_IDENTITY_PASSPHRASE, or is asked
twice on a terminal. --allow-plaintext-identity stores the keys unencrypted instead.

Running init again never overwrites anything: existing keys and config are kept.`,
		Example: "  onvm init --data-dir ./data\n  onvm init --data-dir ./dev --allow-plaintext-identity",
		Args:    cobra.NoArgs,
		RunE:    e.runInit,
	}
	cmd.Flags().String("data-dir", "./data", "data directory (env ONVM_DATA_DIR)")
	addIdentityFlags(cmd)
	cmd.Flags().Bool("enable-mdns", false, "write network.enable_mdns = true into a new config.toml (env ONVM_INIT_ENABLE_MDNS)")
	return cmd
}

func (e *env) runInit(cmd *cobra.Command, _ []string) error {
	dir := e.stringSetting(cmd, "data-dir", "ONVM_DATA_DIR")
	opts := node.InitOptions{
		DataDir:    dir,
		EnableMDNS: e.boolSetting(cmd, "enable-mdns", "ONVM_INIT_ENABLE_MDNS"),
	}
	out := cmd.OutOrStdout()
	_, inspectErr := identity.Inspect(dir)
	if inspectErr != nil {
		// Something must be created: decide how to protect it.
		pass, err := e.givenPassphrase(cmd)
		if err != nil {
			return err
		}
		plaintext := e.boolSetting(cmd, "allow-plaintext-identity", "ONVM_ALLOW_PLAINTEXT_IDENTITY")
		if pass == nil && !plaintext {
			if pass, err = e.passphrase(cmd, true); err != nil {
				return err
			}
		}
		opts.Passphrase, opts.AllowPlaintext = pass, plaintext && pass == nil
	}
	r, err := node.Init(opts)
	if err != nil {
		return fmt.Errorf("init %s: %w", dir, err)
	}
	idPath := filepath.Join(dir, identity.IdentityFile)
	blsPath := filepath.Join(dir, identity.BLSFile)
	if inspectErr == nil || !r.CreatedIdentity {
		printf(out, "Identity already exists at %s. Skipping generation.\n", idPath)
	} else {
		protection := "encrypted with the passphrase"
		if !r.Public.Encrypted {
			protection = "PLAINTEXT (not encrypted)"
		}
		printf(out, "Initialized identity at %s (%s).\n", idPath, protection)
	}
	if r.CreatedBLS {
		printf(out, "Generated BLS consensus identity at %s.\n", blsPath)
	}
	if r.WroteConfig {
		printf(out, "Wrote default config to %s.\n", r.ConfigPath)
	} else {
		printf(out, "Config %s exists; left unchanged.\n", r.ConfigPath)
		if opts.EnableMDNS {
			printf(out, "Note: set network.enable_mdns = true in it to enable mDNS.\n")
		}
	}
	printf(out, "Node ID: %s\n", r.Public.Node)
	if pid, err := p2p.PeerID(ed25519.PublicKey(r.Public.Node[:])); err == nil {
		printf(out, "Peer ID: %s\n", pid)
	}
	printf(out, "BLS public key: %s\n", r.Public.BLS)
	return nil
}
