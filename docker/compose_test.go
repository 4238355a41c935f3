package docker_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/internal/id"
)

// TestComposeNetwork builds the image (docker/build.sh), starts the
// three-node compose network and checks it end to end: health, bootstrap
// through the shared volume, authentication, upload/download, deploy and
// execute, replication of blobs and programs across nodes (an execution
// on node 2 forwarded to the program's committee), a partition of node 3
// (docker network disconnect) with operations on both sides, and the
// reconnection, after which each side holds the other's uploads.
//
// Run: ONVM_DOCKER_TESTS=1 go test -v -timeout 15m ./docker/
func TestComposeNetwork(t *testing.T) {
	if os.Getenv("ONVM_DOCKER_TESTS") != "1" {
		t.Skip("set ONVM_DOCKER_TESTS=1 (and have a Docker engine) to run the compose network test")
	}
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Skipf("no Docker engine reachable: %v", err)
	}
	h := newHarness(t)
	h.build()
	h.up()

	// Every node healthy; nodes 2 and 3 connected to node 1 through the
	// published bootstrap address.
	for i := 1; i <= 3; i++ {
		h.waitLive(i)
	}
	peer1 := h.waitLog(1, regexp.MustCompile(`Peer ID: (12D3KooW\w+)`))[1]
	for _, i := range []int{2, 3} {
		h.waitLog(i, regexp.MustCompile(`connected to peer.*peer=`+peer1+`.*via=bootnode`))
	}

	// Authentication: unsigned requests are refused; each node gets a
	// project through `onvm generate-project` inside its container.
	plain, _ := client.New(h.rpc(1))
	if _, err := plain.BlobInfo(t.Context(), id.BlobOf(nil).String()); !isStatus(err, 401) {
		t.Fatalf("unsigned request on node 1 = %v, want 401", err)
	}
	c := map[int]*client.Client{}
	creds := map[int]client.Credentials{}
	for i := 1; i <= 3; i++ {
		creds[i] = h.generateProject(i)
		c[i], _ = client.New(h.rpc(i), client.WithCredentials(creds[i]))
		if a, err := c[i].CheckAuth(t.Context()); err != nil || a.ProjectID != creds[i].ProjectID {
			t.Fatalf("node %d auth-check = %+v, %v", i, a, err)
		}
	}

	// Upload and download on node 1; deploy and execute there.
	data := randomBytes(t, 3<<20)
	ref, err := c[1].UploadBlob(t.Context(), bytes.NewReader(data), int64(len(data)), "")
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := c[1].GetBlob(t.Context(), ref.ID, &got); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("download on node 1: %v", err)
	}
	wasm, err := os.ReadFile(filepath.Join("..", "examples", "echo", "echo.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	prog, err := c[1].Deploy(t.Context(), client.DeployRequest{Wasm: wasm, Entrypoint: "onvm_main"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c[1].Execute(t.Context(), client.ExecuteRequest{ProgramID: prog.ID, Input: []byte("hello world\n")})
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := res.Output(); string(out) != "HELLO WORLD\n" {
		t.Fatalf("echo output %q", out)
	}

	// Cross-node replication: node 3 serves node 1's upload.
	h.waitBlob(c[3], ref.ID, data)

	// Committees have one member, chosen among the three nodes: the
	// execution on the majority side below needs a leader there.
	p3, err := c[3].Peers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for prog.Manifest.Committee.Members[0].Node == p3.Self.NodeID {
		if prog, err = c[1].Deploy(t.Context(), client.DeployRequest{Wasm: wasm, Entrypoint: "onvm_main"}); err != nil {
			t.Fatal(err)
		}
	}
	// Node 2 lists the program and executes it (forwarded to the
	// leader when node 2 is not the leader).
	h.poll("program "+prog.ID+" replicated to node 2", 90*time.Second, func() error {
		_, err := c[2].Program(t.Context(), prog.ID)
		return err
	})
	res, err = c[2].Execute(t.Context(), client.ExecuteRequest{ProgramID: prog.ID, Input: []byte("from node 2\n")})
	if err != nil {
		t.Fatalf("execute on node 2: %v", err)
	}
	if out, _ := res.Output(); string(out) != "FROM NODE 2\n" {
		t.Fatalf("echo output on node 2: %q", out)
	}

	// Partition node 3, operate on both sides, heal.
	h.docker("network", "disconnect", h.network(), h.container(3))
	a := randomBytes(t, 1<<20)
	refA, err := c[1].UploadBlob(t.Context(), bytes.NewReader(a), int64(len(a)), "")
	if err != nil {
		t.Fatalf("upload on the majority side: %v", err)
	}
	b := randomBytes(t, 1<<20)
	idB := h.uploadInside(3, creds[3], b) // node 3's published port is gone while it is cut off
	if _, err := c[1].Execute(t.Context(), client.ExecuteRequest{ProgramID: prog.ID, Input: []byte("partitioned\n")}); err != nil {
		t.Fatalf("execute on the majority side: %v", err)
	}
	h.docker("network", "connect", "--alias", "onvm3", h.network(), h.container(3))
	h.waitLive(3)
	var back bytes.Buffer
	if _, err := c[3].GetBlob(t.Context(), idB, &back); err != nil || !bytes.Equal(back.Bytes(), b) {
		t.Fatalf("node 3 lost its partition-side upload: %v", err)
	}
	h.waitBlob(c[3], refA.ID, a)
	h.waitBlob(c[1], idB, b)
}

// harness drives one compose project.
type harness struct {
	t       *testing.T
	root    string
	project string
	image   string
	ports   [4]int
	compose []string
	env     []string
}

func newHarness(t *testing.T) *harness {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, root: root, project: fmt.Sprintf("onvmtest%d", os.Getpid()), image: "onvm:dockertest"}
	if exec.Command("docker", "compose", "version").Run() == nil {
		h.compose = []string{"docker", "compose"}
	} else if _, err := exec.LookPath("docker-compose"); err == nil {
		h.compose = []string{"docker-compose"}
	} else {
		t.Skip("neither `docker compose` nor `docker-compose` is available")
	}
	h.env = append(os.Environ(), "ONVM_IMAGE="+h.image, "ONVM_IDENTITY_PASSPHRASE="+hex.EncodeToString(randomBytes(t, 16)))
	for i := 1; i <= 3; i++ {
		h.ports[i] = freePort(t)
		h.env = append(h.env, fmt.Sprintf("ONVM%d_RPC_PORT=%d", i, h.ports[i]))
	}
	return h
}

func (h *harness) run(timeout time.Duration, name string, args ...string) (string, error) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = h.root
	cmd.Env = h.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (h *harness) docker(args ...string) string {
	h.t.Helper()
	out, err := h.run(2*time.Minute, "docker", args...)
	if err != nil {
		h.t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (h *harness) composeCmd(timeout time.Duration, args ...string) (string, error) {
	full := append(append([]string{}, h.compose[1:]...), append([]string{"-f", "docker-compose.yml", "-p", h.project}, args...)...)
	return h.run(timeout, h.compose[0], full...)
}

func (h *harness) build() {
	h.t.Helper()
	start := time.Now()
	out, err := h.run(12*time.Minute, "sh", "docker/build.sh")
	if err != nil {
		h.t.Fatalf("docker/build.sh: %v\n%s", err, out)
	}
	h.t.Logf("image built in %s", time.Since(start).Round(time.Second))
}

func (h *harness) up() {
	h.t.Helper()
	h.t.Cleanup(func() {
		if h.t.Failed() {
			out, _ := h.composeCmd(time.Minute, "logs", "--no-color", "--tail", "60")
			h.t.Logf("compose logs:\n%s", out)
		}
		if out, err := h.composeCmd(2*time.Minute, "down", "-v", "--remove-orphans"); err != nil {
			h.t.Errorf("compose down: %v\n%s", err, out)
		}
	})
	if out, err := h.composeCmd(3*time.Minute, "up", "-d"); err != nil {
		h.t.Fatalf("compose up: %v\n%s", err, out)
	}
}

func (h *harness) rpc(i int) string { return "http://127.0.0.1:" + strconv.Itoa(h.ports[i]) }

func (h *harness) container(i int) string {
	h.t.Helper()
	out, err := h.composeCmd(time.Minute, "ps", "-q", fmt.Sprintf("onvm%d", i))
	if err != nil || strings.TrimSpace(out) == "" {
		h.t.Fatalf("container of onvm%d: %v %s", i, err, out)
	}
	return strings.TrimSpace(out)
}

func (h *harness) network() string {
	out := h.docker("inspect", "--format", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", h.container(1))
	for _, n := range strings.Fields(out) {
		if strings.HasSuffix(n, "onvmnet") {
			return n
		}
	}
	h.t.Fatalf("no onvmnet network in %q", out)
	return ""
}

// poll runs f until it succeeds or the deadline passes.
func (h *harness) poll(what string, d time.Duration, f func() error) {
	h.t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s: not within %s: %v", what, d, err)
		}
		time.Sleep(250 * time.Millisecond) // polling containers from outside
	}
}

func (h *harness) waitLive(i int) {
	h.t.Helper()
	c, _ := client.New(h.rpc(i))
	h.poll(fmt.Sprintf("node %d live", i), 2*time.Minute, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		l, err := c.Liveness(ctx)
		if err == nil && l.Mode != "prod" {
			h.t.Fatalf("node %d mode %q, want prod", i, l.Mode)
		}
		return err
	})
}

func (h *harness) waitLog(i int, re *regexp.Regexp) []string {
	h.t.Helper()
	var m []string
	h.poll(fmt.Sprintf("node %d log %s", i, re), 90*time.Second, func() error {
		out, err := h.run(time.Minute, "docker", "logs", h.container(i))
		if err != nil {
			return err
		}
		if m = re.FindStringSubmatch(out); m == nil {
			return fmt.Errorf("no match")
		}
		return nil
	})
	return m
}

func (h *harness) generateProject(i int) client.Credentials {
	h.t.Helper()
	var out string
	h.poll(fmt.Sprintf("generate-project on node %d", i), time.Minute, func() error {
		var err error
		out, err = h.run(time.Minute, "docker", "exec", h.container(i), "onvm", "generate-project")
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
	c, err := client.ParseCredentials(strings.NewReader(out))
	if err != nil {
		h.t.Fatalf("generate-project output %q: %v", out, err)
	}
	return c
}

// uploadInside uploads through the CLI inside node i's container.
func (h *harness) uploadInside(i int, c client.Credentials, data []byte) string {
	h.t.Helper()
	f := filepath.Join(h.t.TempDir(), "blob.bin")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		h.t.Fatal(err)
	}
	ctr := h.container(i)
	h.docker("cp", f, ctr+":/tmp/blob.bin")
	out := h.docker("exec", "-e", "ONVM_PROJECT_ID="+c.ProjectID, "-e", "ONVM_PROJECT_SECRET="+hex.EncodeToString(c.Secret),
		ctr, "onvm", "upload-blob", "--rpc", "127.0.0.1:8080", "--file", "/tmp/blob.bin", "--json")
	want := id.BlobOf(data).String()
	if !strings.Contains(out, want) {
		h.t.Fatalf("upload inside node %d: %s", i, out)
	}
	return want
}

func (h *harness) waitBlob(c *client.Client, blobID string, want []byte) {
	h.t.Helper()
	h.poll("blob "+blobID+" replicated", 90*time.Second, func() error {
		var b bytes.Buffer
		if _, err := c.GetBlob(context.Background(), blobID, &b); err != nil {
			return err
		}
		if !bytes.Equal(b.Bytes(), want) {
			return fmt.Errorf("content differs")
		}
		return nil
	})
}

func isStatus(err error, code int) bool {
	var ce *client.Error
	return errors.As(err, &ce) && ce.Status == code
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
