package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/internal/nodeproc"
)

// poll checks cond until it holds or d passes.
func poll(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond) // polling, not synchronising
	}
}

// onvm runs one onvm command against a node and returns its stdout.
func onvm(t *testing.T, bin string, p *nodeproc.Proc, args ...string) string {
	t.Helper()
	out, err := cliErr(bin, p, args...)
	if err != nil {
		t.Fatalf("onvm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func cliErr(bin string, p *nodeproc.Proc, args ...string) (string, error) {
	args = append(args, "--rpc", p.Client.URL())
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String() + stderr.String(), err
	}
	return stdout.String(), nil
}

// stateRoot is the height and root `onvm state-get` prints.
func stateRoot(bin string, p *nodeproc.Proc, prog string) (string, error) {
	out, err := cliErr(bin, p, "state-get", "--id", prog)
	if err != nil {
		return "", err
	}
	var sr client.StateRoot
	if err := json.Unmarshal([]byte(out), &sr); err != nil {
		return "", err
	}
	h := uint64(0)
	if sr.Height != nil {
		h = *sr.Height
	}
	return fmt.Sprintf("%d:%s", h, sr.Root), nil
}

// TestThreeNodeNetwork runs three `onvm run-node` processes on loopback and
// drives them with the CLI: an upload on node 1 is downloaded from node 3;
// kvstore deployed on node 2 is executed on node 1, and all three report
// the same state root; one node is killed, the others keep working, and
// after a restart it catches up.
func TestThreeNodeNetwork(t *testing.T) {
	bin := nodeproc.Build(t)
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	nodes := make([]*nodeproc.Proc, 3)
	nodes[0] = nodeproc.Start(t, bin, dirs[0])
	peers, err := nodes[0].Client.Peers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	boot := peers.Self.Addrs[0]
	for i := 1; i < 3; i++ {
		nodes[i] = nodeproc.StartWith(t, bin, dirs[i], nodeproc.Options{Args: []string{"--bootnode", boot}})
	}
	poll(t, 30*time.Second, "three validators on every node", func() bool {
		for _, p := range nodes {
			a, err := p.Client.DAGAuthors(t.Context())
			if err != nil || len(a) != 3 {
				return false
			}
		}
		return true
	})

	// Upload on node 1, get-blob on node 3.
	work := t.TempDir()
	in := filepath.Join(work, "in.bin")
	data := make([]byte, 3<<20+17)
	rand.Read(data)
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var ref client.BlobRef
	if err := json.Unmarshal([]byte(onvm(t, bin, nodes[0], "upload-blob", "--file", in, "--json")), &ref); err != nil {
		t.Fatal(err)
	}
	outFile := filepath.Join(work, "out.bin")
	poll(t, 30*time.Second, "the blob's announcement on node 3", func() bool {
		_, err := nodes[2].Client.BlobInfo(t.Context(), ref.ID)
		return err == nil
	})
	if out := onvm(t, bin, nodes[2], "get-blob", "--id", ref.ID, "--out", outFile); !strings.Contains(out, "verified") {
		t.Fatalf("get-blob: %s", out)
	}
	if got, _ := os.ReadFile(outFile); !bytes.Equal(got, data) {
		t.Fatal("node 3 served other bytes")
	}

	// Deploy kvstore on node 2, execute on node 1.
	wasm := filepath.Join("..", "..", "examples", "kvstore", "kvstore.wasm")
	var prog client.Program
	if err := json.Unmarshal([]byte(onvm(t, bin, nodes[1], "deploy", "--file", wasm, "--entrypoint", "onvm_main", "--json")), &prog); err != nil {
		t.Fatal(err)
	}
	poll(t, 60*time.Second, "the program on every node", func() bool {
		for _, p := range nodes {
			if _, err := p.Client.Program(t.Context(), prog.ID); err != nil {
				return false
			}
		}
		return true
	})
	input := filepath.Join(work, "put.json")
	execute := func(p *nodeproc.Proc, key string) {
		t.Helper()
		req := fmt.Sprintf(`{"op":"put","key":%q,"data_base64":%q}`, key, base64.StdEncoding.EncodeToString([]byte("value of "+key)))
		if err := os.WriteFile(input, []byte(req), 0o644); err != nil {
			t.Fatal(err)
		}
		onvm(t, bin, p, "execute", "--program-id", prog.ID, "--input", input)
	}
	sameRoots := func(height uint64, ps ...*nodeproc.Proc) {
		t.Helper()
		want := ""
		poll(t, 60*time.Second, fmt.Sprintf("state roots equal at height %d", height), func() bool {
			var roots []string
			for _, p := range ps {
				r, err := stateRoot(bin, p, prog.ID)
				if err != nil || !strings.HasPrefix(r, fmt.Sprint(height, ":")) {
					return false
				}
				roots = append(roots, r)
			}
			for _, r := range roots[1:] {
				if r != roots[0] {
					t.Fatalf("diverging state roots at height %d: %v", height, roots)
				}
			}
			want = roots[0]
			return true
		})
		t.Logf("height %d: root %s on %d nodes", height, want, len(ps))
	}
	execute(nodes[0], "a")
	sameRoots(1, nodes...)

	// Kill a node that is neither the bootnode nor the program's leader;
	// the other two keep working.
	leader := prog.Manifest.Committee.Members[0].Node
	victim := 2
	if peersOf(t, nodes[2]).Self.NodeID == leader {
		victim = 1
	}
	if err := nodes[victim].Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-nodes[victim].Done
	alive := []*nodeproc.Proc{nodes[0], nodes[3-victim]}
	execute(nodes[0], "b")
	execute(alive[1], "c")
	sameRoots(3, alive...)

	// Restarted, it catches up.
	nodes[victim] = nodeproc.StartWith(t, bin, dirs[victim], nodeproc.Options{Args: []string{"--bootnode", boot}})
	sameRoots(3, nodes...)
	execute(nodes[victim], "d")
	sameRoots(4, nodes...)
}

func peersOf(t *testing.T, p *nodeproc.Proc) *client.Peers {
	t.Helper()
	ps, err := p.Client.Peers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return ps
}
