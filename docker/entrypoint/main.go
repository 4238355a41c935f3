// Command onvm-entrypoint starts onvm in a container. The image is built
// FROM scratch, so there is no shell: this small static program does what
// the original's docker/entrypoint.sh did, plus the bootstrap handshake of
// the compose network.
//
// With no argument or "run-node" (followed by extra run-node flags) it:
//
//  1. applies the container defaults: ONVM_DATA_DIR=/data,
//     ONVM_RPC_BIND=0.0.0.0:8080 (unless ONVM_RPC or ONVM_RPC_BIND is set),
//     ONVM_LISTEN=/ip4/0.0.0.0/tcp/37000; run-node reads these and
//     ONVM_MIN_PEERS, ONVM_BLOB_SYNC_MODE, ONVM_CONFIG, ONVM_BOOTNODES,
//     ONVM_IDENTITY_PASSPHRASE, ONVM_ALLOW_PLAINTEXT_IDENTITY and ONVM_DEV
//     from the environment itself;
//  2. on first start (no identity), runs `onvm init` (with --enable-mdns
//     when ONVM_INIT_ENABLE_MDNS is true); without ONVM_IDENTITY_PASSPHRASE
//     (and without ONVM_ALLOW_PLAINTEXT_IDENTITY or ONVM_DEV) it exits 2;
//  3. if ONVM_PUBLISH_FILE is set, writes ONVM_PUBLISH_ADDR (a multiaddr
//     such as /dns4/onvm1/tcp/37000) followed by /p2p/<this node's peer id>
//     to that file, for the other nodes of a compose network;
//  4. if ONVM_BOOTNODE_FILES (comma-separated paths) is set, waits up to
//     ONVM_BOOTNODE_WAIT (default 120s) for each file and appends the
//     multiaddr it holds to ONVM_BOOTNODES;
//  5. replaces itself with `onvm run-node` (exec), so the node is PID 1 and
//     gets the container's signals.
//
// "healthcheck" probes GET /health/liveness on the local API (for Docker's
// HEALTHCHECK); any other first argument runs `onvm` with the arguments.
//
// Truthy values are 1, true, yes and on (any case), as in the original.
// The passphrase is handed to onvm through the environment, never on a
// command line (visible in ps); ONVM's wasm guests see no environment.
package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/mr-tron/base58"
)

// identityFile is the node key file in the data directory
// (internal/identity.IdentityFile). Its header is read here directly
// (internal/identity/format.go): importing that package would link the
// BLS library (cgo) into this otherwise pure-Go program. The docker test
// checks the two agree.
const identityFile = "identity"

// onvmPath is where the image puts the onvm binary; ONVM_BIN overrides it
// (tests).
const onvmPath = "/usr/local/bin/onvm"

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	bin := os.Getenv("ONVM_BIN")
	if bin == "" {
		bin = onvmPath
	}
	if len(args) > 0 && args[0] == "healthcheck" {
		return healthcheck()
	}
	if len(args) > 0 && args[0] != "run-node" {
		return execOnvm(bin, args)
	}
	extra := []string{}
	if len(args) > 0 {
		extra = args[1:]
	}
	setDefault("ONVM_DATA_DIR", "/data")
	if os.Getenv("ONVM_RPC") == "" {
		setDefault("ONVM_RPC_BIND", "0.0.0.0:8080")
	}
	setDefault("ONVM_LISTEN", "/ip4/0.0.0.0/tcp/37000")
	dir := os.Getenv("ONVM_DATA_DIR")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fail(1, "create data dir: %v", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fail(1, "chmod data dir: %v", err)
	}
	pass := os.Getenv("ONVM_IDENTITY_PASSPHRASE") != ""
	plain := truthy("ONVM_ALLOW_PLAINTEXT_IDENTITY")
	dev := truthy("ONVM_DEV")

	if _, err := os.Stat(filepath.Join(dir, identityFile)); errors.Is(err, fs.ErrNotExist) {
		if !pass && !plain && !dev {
			return fail(2, "ONVM_IDENTITY_PASSPHRASE is required on first start to run `onvm init`")
		}
		init := []string{"init", "--data-dir", dir}
		if !pass {
			init = append(init, "--allow-plaintext-identity")
		}
		if truthy("ONVM_INIT_ENABLE_MDNS") {
			init = append(init, "--enable-mdns")
		}
		cmd := exec.Command(bin, init...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fail(1, "onvm init: %v", err)
		}
	}
	if !pass && !plain && !dev {
		return fail(2, "ONVM_IDENTITY_PASSPHRASE is required (no TTY available for prompts)")
	}
	if path := os.Getenv("ONVM_PUBLISH_FILE"); path != "" {
		if err := publish(dir, os.Getenv("ONVM_PUBLISH_ADDR"), path); err != nil {
			return fail(1, "publish bootnode address: %v", err)
		}
	}
	if files := os.Getenv("ONVM_BOOTNODE_FILES"); files != "" {
		wait := 120 * time.Second
		if w := os.Getenv("ONVM_BOOTNODE_WAIT"); w != "" {
			d, err := time.ParseDuration(w)
			if err != nil {
				return fail(2, "ONVM_BOOTNODE_WAIT: %v", err)
			}
			wait = d
		}
		addrs, err := readBootnodes(strings.Split(files, ","), wait)
		if err != nil {
			return fail(1, "%v", err)
		}
		all := append(splitList(os.Getenv("ONVM_BOOTNODES")), addrs...)
		if err := os.Setenv("ONVM_BOOTNODES", strings.Join(all, ",")); err != nil {
			return fail(1, "%v", err)
		}
	}
	return execOnvm(bin, append([]string{"run-node"}, extra...))
}

// execve is syscall.Exec; tests replace it.
var execve = syscall.Exec

// execOnvm replaces the process with onvm.
func execOnvm(bin string, args []string) int {
	if err := execve(bin, append([]string{"onvm"}, args...), os.Environ()); err != nil {
		return fail(1, "exec %s: %v", bin, err)
	}
	return 0 // only reached when a test replaced execve

}

func fail(code int, format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "error: "+format+"\n", args...)
	return code
}

func setDefault(name, value string) {
	if os.Getenv(name) == "" {
		_ = os.Setenv(name, value) // fails only for an invalid name
	}
}

func truthy(name string) bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv(name))) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// peerID derives the libp2p peer id from the identity's public key; no
// passphrase is needed.
func peerID(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, identityFile))
	if err != nil {
		return "", err
	}
	// "ONVM-KEY", version 1, kind 1 (Ed25519), protection, reserved, then
	// the 32-byte public key.
	if len(b) < 44 || string(b[:8]) != "ONVM-KEY" || b[8] != 1 || b[9] != 1 {
		return "", fmt.Errorf("%s is not an ONVM Ed25519 key file", identityFile)
	}
	// A libp2p peer id of an Ed25519 key is the identity multihash (0x00,
	// length 36) of the protobuf PublicKey{Type: Ed25519, Data: key}
	// (0x08 0x01 0x12 0x20 key), in base58btc.
	mh := append([]byte{0x00, 0x24, 0x08, 0x01, 0x12, 0x20}, b[12:44]...)
	return base58.Encode(mh), nil
}

// publish writes addr/p2p/<peer id> to path atomically.
func publish(dir, addr, path string) error {
	if addr == "" {
		return errors.New("ONVM_PUBLISH_ADDR is empty")
	}
	id, err := peerID(dir)
	if err != nil {
		return err
	}
	line := strings.TrimSuffix(addr, "/") + "/p2p/" + id + "\n"
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(line), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// readBootnodes waits for each file and returns the multiaddrs they hold.
func readBootnodes(paths []string, wait time.Duration) ([]string, error) {
	deadline := time.Now().Add(wait)
	var out []string
	for _, p := range paths {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		for {
			b, err := os.ReadFile(p)
			if err == nil && strings.TrimSpace(string(b)) != "" {
				out = append(out, strings.TrimSpace(string(b)))
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("bootnode file %s did not appear within %s", p, wait)
			}
			time.Sleep(250 * time.Millisecond) // polling another container's file
		}
	}
	return out, nil
}

// healthcheck exits 0 when the local API answers /health/liveness.
func healthcheck() int {
	addr := os.Getenv("ONVM_RPC")
	if addr == "" {
		addr = os.Getenv("ONVM_RPC_BIND")
	}
	if addr == "" {
		addr = "0.0.0.0:8080"
	}
	_, port, err := net.SplitHostPort(strings.TrimPrefix(addr, "http://"))
	if err != nil {
		return fail(1, "healthcheck: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/health/liveness", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fail(1, "healthcheck: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(1, "healthcheck: HTTP %d", resp.StatusCode)
	}
	return 0
}
