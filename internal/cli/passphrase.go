package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// passphraseEnv is the environment variable holding the identity passphrase.
const passphraseEnv = "ONVM_IDENTITY_PASSPHRASE"

var errNoPassphrase = errors.New("an identity passphrase is needed: pass --identity-passphrase, set " +
	passphraseEnv + ", run in a terminal to be asked, or use --allow-plaintext-identity")

// givenPassphrase returns the passphrase from the flag or the environment,
// or nil when neither sets it.
func (e *env) givenPassphrase(cmd *cobra.Command) ([]byte, error) {
	if f := cmd.Flags().Lookup("identity-passphrase"); f.Changed {
		if f.Value.String() == "" {
			return nil, usageError{err: errors.New("--identity-passphrase: passphrase cannot be empty")}
		}
		return []byte(f.Value.String()), nil
	}
	if v := e.getenv(passphraseEnv); v != "" {
		return []byte(v), nil
	}
	return nil, nil
}

// passphrase returns the given passphrase, or asks for it without echo when
// stdin is a terminal (twice when confirm is set). Without a terminal it
// fails with a usage error.
func (e *env) passphrase(cmd *cobra.Command, confirm bool) ([]byte, error) {
	p, err := e.givenPassphrase(cmd)
	if err != nil || p != nil {
		return p, err
	}
	f, ok := e.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, usageError{err: errNoPassphrase}
	}
	read := func(prompt string) ([]byte, error) {
		printf(e.stderr, "%s", prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		printLine(e.stderr)
		if err != nil {
			return nil, fmt.Errorf("read passphrase: %w", err)
		}
		return b, nil
	}
	p, err = read("Identity passphrase: ")
	if err != nil {
		return nil, err
	}
	if len(p) == 0 {
		return nil, usageError{err: errors.New("passphrase cannot be empty")}
	}
	if confirm {
		again, err := read("Confirm passphrase: ")
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(p, again) {
			return nil, usageError{err: errors.New("passphrases do not match")}
		}
	}
	return p, nil
}

// addIdentityFlags adds the flags that say how the identity is protected.
func addIdentityFlags(cmd *cobra.Command) {
	cmd.Flags().String("identity-passphrase", "", "passphrase that encrypts the node's keys (env "+passphraseEnv+"; asked on a terminal when absent)")
	cmd.Flags().Bool("allow-plaintext-identity", false, "store or load the keys unencrypted (env ONVM_ALLOW_PLAINTEXT_IDENTITY)")
}
