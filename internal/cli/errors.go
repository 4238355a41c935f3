package cli

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/onvm-network/onvm/client"
)

// errorText is the one-line message printed after "Error: ".
func errorText(err error) string {
	return err.Error() + authHint(err)
}

// nodeError explains a failed call to the node: its JSON error as sent, or,
// when the node could not be reached at all, where the CLI tried.
func nodeError(c *client.Client, err error) error {
	var ce *client.Error
	if errors.As(err, &ce) {
		return err
	}
	// Only a failure of the network itself: a local file error also
	// satisfies net.Error (syscall.Errno has Timeout and Temporary).
	var oe *net.OpError
	var de *net.DNSError
	if errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &oe) || errors.As(err, &de) {
		return &unreachableError{url: c.URL(), err: err}
	}
	return err
}

type unreachableError struct {
	url string
	err error
}

func (e *unreachableError) Error() string {
	msg := e.err.Error()
	if errors.Is(e.err, syscall.ECONNREFUSED) {
		msg = "connection refused"
	}
	return "cannot reach the node at " + e.url + " (" + msg + "); is `onvm run-node` running there? (--rpc)"
}

func (e *unreachableError) Unwrap() error { return e.err }

// printf writes to the command's output; a failed write to a terminal or
// pipe has nowhere better to be reported.
func printf(w io.Writer, format string, args ...any) { _, _ = fmt.Fprintf(w, format, args...) }

// printLine is printf for a line of operands.
func printLine(w io.Writer, args ...any) { _, _ = fmt.Fprintln(w, args...) }
