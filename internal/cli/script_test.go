package cli

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/internal/id"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"onvm": func() {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			code := Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
			stop()
			os.Exit(code)
		},
	})
}

// TestScripts runs testdata/script/*.txtar: the CLI end to end, in-process
// (testscript re-executes the test binary as "onvm").
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:   filepath.Join("testdata", "script"),
		Setup: setupJobScripts, // jobs_script_test.go: $JOBWASM, the job tests' fixtures
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"jsonget":   cmdJSONGet,
			"waitnode":  cmdWaitNode,
			"randfile":  cmdRandFile,
			"blobid":    cmdBlobID,
			"perm":      cmdPerm,
			"p2paddr":   cmdP2PAddr,
			"waitpeers": cmdWaitPeers,
			"waitdag":   cmdWaitDAG,
		},
		RequireExplicitExec: true,
	})
}

// waitnode DATADIR VAR: wait until the node using DATADIR wrote its RPC URL
// and answers readiness, then set $VAR to the URL.
func cmdWaitNode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitnode DATADIR VAR")
	}
	path := ts.MkAbs(filepath.Join(args[0], "rpc.url"))
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(path); err == nil {
			url := strings.TrimSpace(string(b))
			c, err := client.New(url)
			ts.Check(err)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, err = c.Readiness(ctx)
			cancel()
			if err == nil {
				ts.Setenv(args[1], url)
				return
			}
		}
		if time.Now().After(deadline) {
			ts.Fatalf("node with data dir %s not ready after 30s", args[0])
		}
		time.Sleep(20 * time.Millisecond) // polling for readiness
	}
}

// randfile NAME SIZE: write SIZE random bytes.
func cmdRandFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: randfile NAME SIZE")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	b := make([]byte, n)
	rand.Read(b)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o644))
}

// blobid FILE VAR: set $VAR to the blob id of FILE's bytes.
func cmdBlobID(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: blobid FILE VAR")
	}
	b, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	ts.Setenv(args[1], id.BlobOf(b).String())
}

// perm FILE MODE: check FILE's permission bits (octal).
func cmdPerm(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: perm FILE MODE")
	}
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	got := uint64(fi.Mode().Perm())
	if (got == want) == neg {
		ts.Fatalf("%s has mode %s, want %s%s", args[0], fmt.Sprintf("%#o", got), map[bool]string{true: "not ", false: ""}[neg], args[1])
	}
}

// p2paddr RPC VAR: set $VAR to the node's first P2P address (with /p2p/).
func cmdP2PAddr(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: p2paddr RPC VAR")
	}
	c, err := client.New(args[0])
	ts.Check(err)
	ps, err := c.Peers(context.Background())
	ts.Check(err)
	if len(ps.Self.Addrs) == 0 {
		ts.Fatalf("node at %s has no P2P address", args[0])
	}
	ts.Setenv(args[1], ps.Self.Addrs[0])
}

// waitpeers RPC N: wait until the node has at least N ONVM peers.
func cmdWaitPeers(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitpeers RPC N")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	c, err := client.New(args[0])
	ts.Check(err)
	poll(ts, "peers", func() bool {
		ps, err := c.Peers(context.Background())
		return err == nil && ps.ONVMPeers >= n
	})
}

// waitdag RPC N VAR: wait until the node holds at least N vertices, then
// set $VAR to one of its heads.
func cmdWaitDAG(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: waitdag RPC N VAR")
	}
	n, err := strconv.ParseUint(args[1], 10, 64)
	ts.Check(err)
	c, err := client.New(args[0])
	ts.Check(err)
	poll(ts, "vertices", func() bool {
		h, err := c.DAGHeads(context.Background())
		if err != nil || h.Vertices < n || len(h.Heads) == 0 {
			return false
		}
		ts.Setenv(args[2], h.Heads[0])
		return true
	})
}

// poll checks cond until it holds, for at most 30 s.
func poll(ts *testscript.TestScript, what string, cond func() bool) {
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			ts.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond) // polling, not synchronising
	}
}
