// Package cli implements the onvm command line: one cobra command per file,
// all reached through Main, a function of (ctx, args, stdin, stdout,
// stderr) so that tests run the CLI in-process.
//
// Commands that talk to a running node do so only through the public
// client package, never by opening a data directory a node may be using.
// The package must not print from anywhere but the command being run, and
// must not call os.Exit (main does, with Main's result).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/onvm-network/onvm/internal/node"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command failed
	exitUsage = 2 // the command line (or a missing passphrase) is wrong
)

// env is what a command may use of its process, injected for tests.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	logLevel       string
}

// Main runs the onvm command line and returns the process exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	root := e.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	printf(stderr, "Error: %s\n", errorText(err))
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		if !errors.As(err, &ue) || ue.showHelp {
			printf(stderr, "Run 'onvm --help' for usage.\n")
		}
		return exitUsage
	}
	return exitError
}

func (e *env) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "onvm",
		Short: "ONVM: a peer-to-peer compute network node and its client",
		Long: "onvm runs an ONVM node (init, run-node) and talks to a running node over its HTTP API\n" +
			"(upload-blob, get-blob). Every command has --help.",
		Version:           node.Version(),
		SilenceUsage:      true,
		SilenceErrors:     true,
		DisableAutoGenTag: true,
	}
	root.PersistentFlags().StringVar(&e.logLevel, "log-level", "",
		"log level: debug, info, warn or error (env ONVM_LOG_LEVEL; default info)")
	addAuthFlags(root.PersistentFlags()) // auth.go: every command signs when given credentials
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usageError{err: err, showHelp: true}
	})
	root.AddCommand(
		e.initCommand(),
		e.runNodeCommand(),
		e.uploadBlobCommand(),
		e.getBlobCommand(),
		e.deployCommand(),
		e.programInfoCommand(),
		e.programCatalogCommand(),
		e.programCommitteeCommand(),
		e.executeCommand(),
		e.programReceiptsCommand(),
		e.receiptCommand(),
		e.verifyReceiptCommand(),
		e.stateGetCommand(),
		e.verifyProofCommand(),
		e.checkCommand(),
		e.peersCommand(),
		e.dagCommand(),
	)
	root.AddCommand(e.authCommands()...)
	root.AddCommand(e.jobCommands()...)
	return root
}

// usageError is a mistake on the command line: exit status 2.
type usageError struct {
	err      error
	showHelp bool
}

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// isCobraUsage recognises cobra's own argument errors, which it does not
// type.
func isCobraUsage(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown command", "required flag", "accepts ", "unknown flag", "unknown shorthand", "invalid argument"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// logger builds the slog logger on stderr at the chosen level.
func (e *env) logger() (*slog.Logger, error) {
	lvl := e.logLevel
	if lvl == "" {
		lvl = e.getenv("ONVM_LOG_LEVEL")
	}
	var level slog.Level
	if lvl != "" {
		if err := level.UnmarshalText([]byte(lvl)); err != nil {
			return nil, usageError{err: fmt.Errorf("--log-level: %w", err)}
		}
	}
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level})), nil
}

// stringSetting returns the flag's value when set on the command line, else
// the first non-empty environment variable, else the flag's default.
func (e *env) stringSetting(cmd *cobra.Command, flag string, envs ...string) string {
	f := cmd.Flags().Lookup(flag)
	if f.Changed {
		return f.Value.String()
	}
	for _, name := range envs {
		if v := e.getenv(name); v != "" {
			return v
		}
	}
	return f.DefValue
}

// boolSetting is stringSetting for booleans; a malformed variable is false.
func (e *env) boolSetting(cmd *cobra.Command, flag string, envs ...string) bool {
	f := cmd.Flags().Lookup(flag)
	if f.Changed {
		return f.Value.String() == "true"
	}
	for _, name := range envs {
		switch strings.ToLower(e.getenv(name)) {
		case "1", "true", "yes", "on":
			return true
		}
	}
	return false
}
