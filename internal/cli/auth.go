package cli

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/client/wire"
	"github.com/onvm-network/onvm/internal/auth"
	"github.com/onvm-network/onvm/internal/node"
)

// Credentials and TLS flags are persistent: every command that talks to a
// node signs its requests through the client's signing transport (see
// e.client), so commands added later sign without doing anything.
func addAuthFlags(f *pflag.FlagSet) {
	f.String("project-id", "", "project id for signed requests (env ONVM_PROJECT_ID)")
	f.String("project-secret", "", "project secret, 64 hex digits (env ONVM_PROJECT_SECRET; visible in ps: prefer --credentials)")
	f.String("credentials", "", "file with project_id=… and project_secret=… lines, as printed by generate-project (env ONVM_CREDENTIALS)")
	f.String("rpc-ca", "", "PEM certificate(s) to trust for an https:// node, e.g. its self-signed certificate (env ONVM_RPC_CA)")
}

// authOptions returns the client options that the credential and TLS
// flags ask for. Precedence: --project-id/--project-secret, --credentials,
// ONVM_PROJECT_ID/ONVM_PROJECT_SECRET, ONVM_CREDENTIALS.
func (e *env) authOptions(cmd *cobra.Command) ([]client.Option, error) {
	var opts []client.Option
	creds, err := e.credentials(cmd)
	if err != nil {
		return nil, err
	}
	if creds != nil {
		opts = append(opts, client.WithCredentials(*creds))
	}
	roots, err := e.rootCAs(cmd)
	return append(opts, roots...), err
}

// rootCAs returns the option --rpc-ca asks for, if any.
func (e *env) rootCAs(cmd *cobra.Command) ([]client.Option, error) {
	ca := e.persistentSetting(cmd, "rpc-ca", "ONVM_RPC_CA")
	if ca == "" {
		return nil, nil
	}
	pool, err := client.LoadRootCAs(ca)
	if err != nil {
		return nil, usageError{err: fmt.Errorf("--rpc-ca: %w", err)}
	}
	return []client.Option{client.WithRootCAs(pool)}, nil
}

func (e *env) credentials(cmd *cobra.Command) (*client.Credentials, error) {
	flag := func(name string) (string, bool) {
		f := cmd.Flags().Lookup(name)
		if f == nil || !f.Changed {
			return "", false
		}
		return f.Value.String(), true
	}
	pair := func(id, secret, from string) (*client.Credentials, error) {
		if id == "" || secret == "" {
			return nil, usageError{err: fmt.Errorf("%s: give both the project id and the project secret", from)}
		}
		s, err := client.ParseSecret(secret)
		if err != nil {
			return nil, usageError{err: fmt.Errorf("%s: %w", from, err)}
		}
		return &client.Credentials{ProjectID: id, Secret: s}, nil
	}
	file := func(path, from string) (*client.Credentials, error) {
		c, err := client.LoadCredentials(path)
		if err != nil {
			return nil, usageError{err: fmt.Errorf("%s: %w", from, err)}
		}
		return &c, nil
	}
	id, idSet := flag("project-id")
	secret, secretSet := flag("project-secret")
	if idSet || secretSet {
		return pair(id, secret, "--project-id/--project-secret")
	}
	if path, ok := flag("credentials"); ok {
		return file(path, "--credentials")
	}
	if id, secret := e.getenv("ONVM_PROJECT_ID"), e.getenv("ONVM_PROJECT_SECRET"); id != "" || secret != "" {
		return pair(id, secret, "ONVM_PROJECT_ID/ONVM_PROJECT_SECRET")
	}
	if path := e.getenv("ONVM_CREDENTIALS"); path != "" {
		return file(path, "ONVM_CREDENTIALS")
	}
	return nil, nil
}

// persistentSetting is stringSetting for a flag that may be absent.
func (e *env) persistentSetting(cmd *cobra.Command, flag, envName string) string {
	if f := cmd.Flags().Lookup(flag); f != nil && f.Changed {
		return f.Value.String()
	}
	return e.getenv(envName)
}

// uploadContext returns ctx carrying the file's SHA-256 when c signs its
// requests, so a file of any size is signed without being buffered; the
// file is read twice (hash, then upload) and left at offset 0.
func uploadContext(ctx context.Context, c *client.Client, f *os.File) (context.Context, error) {
	if !c.Signs() {
		return ctx, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ctx, fmt.Errorf("hash %s for signing: %w", f.Name(), err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return ctx, err
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return client.WithBodySHA256(ctx, sum), nil
}

// authHint explains a 401 or 429 from the node.
func authHint(err error) string {
	const register = "\n  On the node's machine, create a project with: onvm generate-project --data-dir <node data dir> > creds; chmod 600 creds"
	switch {
	case errors.Is(err, client.ErrRateLimited):
		return "\nHint: this project is over the node's rate limit (rpc_auth.rate_limit_per_minute); retry later."
	case !errors.Is(err, client.ErrUnauthorized):
		return ""
	case errors.Is(err, client.ErrorCode(wire.CodeMissingAuthHeader)):
		return "\nHint: this node requires signed requests. Pass --credentials FILE (or ONVM_CREDENTIALS),\n" +
			"  or --project-id and --project-secret (or ONVM_PROJECT_ID and ONVM_PROJECT_SECRET)." + register
	case errors.Is(err, client.ErrorCode(wire.CodeUnknownProject)):
		return "\nHint: the project is not registered on this node (or was revoked); check --project-id." + register
	case errors.Is(err, client.ErrorCode(wire.CodeBadSignature)):
		return "\nHint: the signature did not verify: check --project-secret (64 hex digits) for this project."
	case errors.Is(err, client.ErrorCode(wire.CodeBadTimestamp)):
		return "\nHint: this machine's clock differs from the node's by more than rpc_auth.skew_ms; sync the clocks (NTP)."
	}
	return "\nHint: check --project-id/--project-secret (or --credentials) and that the project is registered on this node."
}

func (e *env) authCommands() []*cobra.Command {
	return []*cobra.Command{e.generateProjectCommand(), e.listProjectsCommand(), e.revokeProjectCommand(), e.authCheckCommand()}
}

// addAdminFlags adds the flags of the project administration commands.
func addAdminFlags(cmd *cobra.Command) {
	cmd.Flags().String("data-dir", "./data", "data directory of the running node; its admin.cookie authorises the call (env ONVM_DATA_DIR)")
	cmd.Flags().String("rpc", "", "node API address (default: the URL the node wrote to <data-dir>/rpc.url)")
}

// adminClient returns a client for the node running on --data-dir and the
// admin cookie it wrote.
func (e *env) adminClient(cmd *cobra.Command) (*client.Client, string, error) {
	dir := e.stringSetting(cmd, "data-dir", "ONVM_DATA_DIR")
	cookie, err := auth.ReadCookie(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", fmt.Errorf("no admin cookie in %s: is `onvm run-node --data-dir %s` running with authentication on (not --dev)?", dir, dir)
	}
	if err != nil {
		return nil, "", fmt.Errorf("%w (run as the user that runs the node)", err)
	}
	rpc, _ := cmd.Flags().GetString("rpc")
	if rpc == "" {
		b, err := os.ReadFile(filepath.Join(dir, node.RPCURLFile))
		if err != nil {
			return nil, "", fmt.Errorf("no RPC URL in %s (is the node running?); pass --rpc: %w", dir, err)
		}
		rpc = loopbackURL(strings.TrimSpace(string(b)))
	}
	opts, err := e.rootCAs(cmd) // admin calls use the cookie, never project credentials
	if err != nil {
		return nil, "", err
	}
	c, err := client.New(rpc, append(opts, client.WithUserAgent("onvm-cli/"+rootVersion(cmd)))...)
	if err != nil {
		return nil, "", usageError{err: fmt.Errorf("--rpc: %w", err)}
	}
	return c, cookie, nil
}

// loopbackURL replaces an unspecified listen host (0.0.0.0, ::) by the
// loopback address: the admin routes accept only loopback peers.
func loopbackURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsUnspecified() {
		u.Host = net.JoinHostPort("127.0.0.1", u.Port())
	}
	return u.String()
}

func (e *env) generateProjectCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "generate-project",
		Short: "Register a project on the local node and print its credentials",
		Long: `generate-project registers a project on the node running on --data-dir and prints
project_id=… and project_secret=… (the credentials file format of --credentials). The
secret is shown this once; keep the output private (chmod 600). Projects take effect at
once, without a restart.

It must run on the node's machine as a user that can read the data directory: it
authorises itself with the admin cookie the node writes there (admin.cookie) and calls
the node's loopback-only admin routes. No passphrase is sent anywhere.`,
		Example: "  onvm generate-project --data-dir ./data > creds && chmod 600 creds\n" +
			"  onvm upload-blob --credentials creds --file in.bin\n" +
			"  docker compose exec onvm1 onvm generate-project --data-dir /data",
		Args: cobra.NoArgs,
		RunE: e.runGenerateProject,
	}
	addAdminFlags(cmd)
	cmd.Flags().String("project-id", "", "project id to register (default: random)")
	cmd.Flags().String("project-secret", "", "project secret to register, 64 hex digits (default: random)")
	return cmd
}

func (e *env) runGenerateProject(cmd *cobra.Command, _ []string) error {
	c, cookie, err := e.adminClient(cmd)
	if err != nil {
		return err
	}
	id, _ := cmd.Flags().GetString("project-id")
	var secret []byte
	if s, _ := cmd.Flags().GetString("project-secret"); s != "" {
		if secret, err = client.ParseSecret(s); err != nil {
			return usageError{err: fmt.Errorf("--project-secret: %w", err)}
		}
	}
	creds, err := c.CreateProject(cmd.Context(), cookie, id, secret)
	if err != nil {
		return fmt.Errorf("generate-project: %w", nodeError(c, err))
	}
	out := cmd.OutOrStdout()
	printf(out, "project_id=%s\n", creds.ProjectID)
	printf(out, "project_secret=%x\n", creds.Secret)
	return nil
}

func (e *env) listProjectsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list-projects",
		Short: "List the projects of the local node (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, cookie, err := e.adminClient(cmd)
			if err != nil {
				return err
			}
			ps, err := c.ListProjects(cmd.Context(), cookie)
			if err != nil {
				return fmt.Errorf("list-projects: %w", nodeError(c, err))
			}
			for _, p := range ps {
				printf(cmd.OutOrStdout(), "%s\t%s\n", p.ProjectID, p.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"))
			}
			return nil
		},
	}
	addAdminFlags(cmd)
	return cmd
}

func (e *env) revokeProjectCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "revoke-project",
		Short: "Revoke a project of the local node; its requests fail at once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, cookie, err := e.adminClient(cmd)
			if err != nil {
				return err
			}
			id, _ := cmd.Flags().GetString("project-id")
			if err := c.RevokeProject(cmd.Context(), cookie, id); err != nil {
				return fmt.Errorf("revoke-project %s: %w", id, nodeError(c, err))
			}
			printf(cmd.OutOrStdout(), "project %s revoked\n", id)
			return nil
		},
	}
	addAdminFlags(cmd)
	cmd.Flags().String("project-id", "", "project to revoke (required)")
	_ = cmd.MarkFlagRequired("project-id")
	return cmd
}

func (e *env) authCheckCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth-check",
		Short: "Check that the node accepts these credentials",
		Long: `auth-check sends one signed request (GET /auth/check) and prints "ok", or
"auth check failed:" with the node's reason (unknown project, bad signature, clock skew…).`,
		Example: "  onvm auth-check --rpc :8080 --credentials creds",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.client(cmd)
			if err != nil {
				return err
			}
			a, err := c.CheckAuth(cmd.Context())
			if err != nil {
				return fmt.Errorf("auth check failed: %w", nodeError(c, err))
			}
			if a.Auth == "disabled" {
				printLine(cmd.OutOrStdout(), "ok (authentication is off on this node)")
			} else {
				printf(cmd.OutOrStdout(), "ok (project %s)\n", a.ProjectID)
			}
			return nil
		},
	}
	addRPCFlag(cmd)
	return cmd
}
