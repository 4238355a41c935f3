// Command blobbench measures blob upload and download through a real onvm
// node against the machine's own limits, on the same file in the same run:
//
//	go run ./bench/blobbench            # 256 MiB files, 1 GiB RSS probe
//	go run ./bench/blobbench -size 64MiB -rss-size 256MiB
//
// It prints, for a random file: durable write with dd conv=fsync, hashing
// with b3sum --num-threads 1, page-cache reads with cat; then uploads
// through the HTTP API (Go client) and the CLI, downloads with a plain HTTP
// GET (the node verifies every byte it sends), with the Go client (which
// verifies the whole blob again) and with the CLI (which also fsyncs), and
// the growth of the node's peak RSS (VmHWM) during a large upload. Ratios
// are against the baselines; targets: upload ≥ 0.6 × dd, download ≥ 1/8 ×
// cat, RSS growth ≤ 64 MiB. With -strict a missed target exits 1.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/onvm-network/onvm/client"
)

func main() {
	size := flag.String("size", "256MiB", "size of the test files")
	rssSize := flag.String("rss-size", "1GiB", "size of the upload during which peak RSS is measured (0 skips)")
	dir := flag.String("dir", "", "working directory (default: a new one under $TMPDIR); must hold about 3×size + rss-size")
	bin := flag.String("bin", "", "onvm binary (default: build ./cmd/onvm)")
	strict := flag.Bool("strict", false, "exit 1 when a target is missed")
	flag.Parse()
	if err := run(*size, *rssSize, *dir, *bin, *strict); err != nil {
		fmt.Fprintln(os.Stderr, "blobbench:", err)
		os.Exit(1)
	}
}

func run(sizeText, rssText, dir, bin string, strict bool) error {
	size, err := parseSize(sizeText)
	if err != nil {
		return err
	}
	rssSize, err := parseSize(rssText)
	if err != nil {
		return err
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "onvm-blobbench-"); err != nil {
			return err
		}
		defer func() { _ = os.RemoveAll(dir) }()
	}
	if bin == "" {
		bin = filepath.Join(dir, "onvm")
		fmt.Fprintln(os.Stderr, "building onvm …")
		if out, err := exec.Command(goBinary(), "build", "-o", bin, "./cmd/onvm").CombinedOutput(); err != nil {
			return fmt.Errorf("build: %w\n%s", err, out)
		}
	}
	fileA, fileB := filepath.Join(dir, "a.bin"), filepath.Join(dir, "b.bin")
	for i, f := range []string{fileA, fileB} {
		if err := writeRandom(f, size, uint64(i+1)); err != nil {
			return err
		}
	}
	mb := float64(size) / 1e6
	rate := func(d time.Duration) float64 { return mb / d.Seconds() }

	// Machine limits, on fileA.
	dd, err := timeCmd("dd", "if="+fileA, "of="+filepath.Join(dir, "dd.out"), "bs=4M", "conv=fsync")
	if err != nil {
		return err
	}
	_ = os.Remove(filepath.Join(dir, "dd.out"))
	var b3 time.Duration
	if _, err := exec.LookPath("b3sum"); err == nil {
		if b3, err = timeCmd("b3sum", "--num-threads", "1", fileA); err != nil {
			return err
		}
	}
	cat, err := timeCmd("sh", "-c", `cat "$1" > /dev/null`, "sh", fileA)
	if err != nil {
		return err
	}

	// A node.
	node, err := startNode(bin, filepath.Join(dir, "node"))
	if err != nil {
		return err
	}
	defer node.stop()
	ctx := context.Background()

	f, err := os.Open(fileA)
	if err != nil {
		return err
	}
	start := time.Now()
	ref, err := node.client.UploadBlob(ctx, f, size, "application/octet-stream")
	upAPI := time.Since(start)
	f.Close()
	if err != nil {
		return fmt.Errorf("upload via API: %w", err)
	}
	upCLI, err := timeCmd(bin, "upload-blob", "--rpc", node.client.URL(), "--file", fileB, "--json")
	if err != nil {
		return err
	}
	start = time.Now()
	if err := rawGet(node.client.URL() + "/blobs/" + ref.ID); err != nil {
		return fmt.Errorf("download via API: %w", err)
	}
	downAPI := time.Since(start)
	start = time.Now()
	if _, err := node.client.GetBlob(ctx, ref.ID, io.Discard); err != nil {
		return fmt.Errorf("download via Go client: %w", err)
	}
	downClient := time.Since(start)
	downCLI, err := timeCmd(bin, "get-blob", "--rpc", node.client.URL(), "--id", ref.ID, "--out", filepath.Join(dir, "get.out"))
	if err != nil {
		return err
	}
	_ = os.Remove(filepath.Join(dir, "get.out"))
	node.stop()

	// Peak RSS during a large upload, on a fresh node.
	var rssGrowth int64 = -1
	var rssUp time.Duration
	if rssSize > 0 {
		n2, err := startNode(bin, filepath.Join(dir, "node-rss"))
		if err != nil {
			return err
		}
		defer n2.stop()
		resetPeak(n2.cmd.Process.Pid)
		before, _ := procStatus(n2.cmd.Process.Pid, "VmRSS")
		start := time.Now()
		src := &randReader{rng: rand.NewChaCha8([32]byte{9}), left: rssSize}
		if _, err := n2.client.UploadBlob(ctx, src, rssSize, ""); err != nil {
			return fmt.Errorf("RSS upload: %w", err)
		}
		rssUp = time.Since(start)
		peak, err := procStatus(n2.cmd.Process.Pid, "VmHWM")
		if err != nil {
			return err
		}
		rssGrowth = peak - before
		n2.stop()
	}

	missed := 0
	check := func(ok bool) string {
		if ok {
			return "ok"
		}
		missed++
		return "MISSED"
	}
	fmt.Printf("blobbench: %s random files, GOMAXPROCS=%d, %s\n", sizeText, runtime.GOMAXPROCS(0), dir)
	fmt.Println("machine limits (same file, same run):")
	fmt.Printf("  %-34s %8.1f MB/s\n", "dd bs=4M conv=fsync (durable)", rate(dd))
	if b3 > 0 {
		fmt.Printf("  %-34s %8.1f MB/s\n", "b3sum --num-threads 1 (hashing)", rate(b3))
	} else {
		fmt.Printf("  %-34s %8s\n", "b3sum --num-threads 1 (hashing)", "absent")
	}
	fmt.Printf("  %-34s %8.1f MB/s\n", "cat > /dev/null (page cache)", rate(cat))
	fmt.Println("onvm:")
	fmt.Printf("  %-34s %8.1f MB/s  %.2f× dd  (target ≥ 0.60: %s)\n", "upload, HTTP API (durable)", rate(upAPI), dd.Seconds()/upAPI.Seconds(), check(dd.Seconds()/upAPI.Seconds() >= 0.6))
	fmt.Printf("  %-34s %8.1f MB/s  %.2f× dd\n", "upload, CLI upload-blob", rate(upCLI), dd.Seconds()/upCLI.Seconds())
	fmt.Printf("  %-34s %8.1f MB/s  %.2f× cat (target ≥ 0.125: %s)\n", "download, HTTP GET (node verifies)", rate(downAPI), cat.Seconds()/downAPI.Seconds(), check(cat.Seconds()/downAPI.Seconds() >= 0.125))
	fmt.Printf("  %-34s %8.1f MB/s  %.2f× cat\n", "download, Go client (verifies too)", rate(downClient), cat.Seconds()/downClient.Seconds())
	fmt.Printf("  %-34s %8.1f MB/s  %.2f× cat\n", "download, CLI get-blob (fsync)", rate(downCLI), cat.Seconds()/downCLI.Seconds())
	if b3 > 0 {
		fmt.Printf("  %-34s %8.2f× b3sum\n", "upload API vs hashing alone", b3.Seconds()/upAPI.Seconds())
	}
	if rssGrowth >= 0 {
		fmt.Printf("  %-34s %8.1f MiB (%s upload at %.1f MB/s; target ≤ 64 MiB: %s)\n", "peak RSS growth (VmHWM)",
			float64(rssGrowth)/(1<<20), rssText, float64(rssSize)/1e6/rssUp.Seconds(), check(rssGrowth <= 64<<20))
	}
	if strict && missed > 0 {
		return fmt.Errorf("%d target(s) missed", missed)
	}
	return nil
}

// rawGet downloads url into io.Discard as a plain HTTP client would.
func rawGet(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	_, err = io.CopyBuffer(io.Discard, struct{ io.Reader }{resp.Body}, make([]byte, 1<<20))
	return err
}

type node struct {
	cmd    *exec.Cmd
	client *client.Client
	done   chan error
}

func startNode(bin, dataDir string) (*node, error) {
	cmd := exec.Command(bin, "run-node", "--dev", "--data-dir", dataDir, "--rpc", "127.0.0.1:0",
		"--listen", "/ip4/127.0.0.1/tcp/0", "--log-level", "warn")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	n := &node{cmd: cmd, done: make(chan error, 1)}
	go func() { n.done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if b, err := os.ReadFile(filepath.Join(dataDir, "rpc.url")); err == nil {
			c, err := client.New(strings.TrimSpace(string(b)))
			if err == nil {
				if _, err := c.Readiness(context.Background()); err == nil {
					n.client = c
					return n, nil
				}
			}
		}
		select {
		case err := <-n.done:
			return nil, fmt.Errorf("node exited: %w\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			n.stop()
			return nil, errors.New("node not ready after 60s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (n *node) stop() {
	if n.cmd.ProcessState != nil {
		return
	}
	_ = n.cmd.Process.Signal(os.Interrupt)
	var err error // the exit status of a node being stopped does not matter
	select {
	case err = <-n.done:
	case <-time.After(30 * time.Second):
		_ = n.cmd.Process.Kill()
		err = <-n.done
	}
	_ = err
}

func timeCmd(name string, args ...string) (time.Duration, error) {
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%s: %w\n%s", name, err, stderr.String())
	}
	return time.Since(start), nil
}

type randReader struct {
	rng  *rand.ChaCha8
	left int64
}

func (r *randReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), r.left))
	_, _ = r.rng.Read(p[:n])
	r.left -= int64(n)
	return n, nil
}

func writeRandom(path string, size int64, seed uint64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if _, err := io.Copy(w, &randReader{rng: rand.NewChaCha8([32]byte{byte(seed)}), left: size}); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// resetPeak resets the process's VmHWM (Linux: clear_refs 5); best effort.
func resetPeak(pid int) {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// procStatus reads a "kB" field of /proc/<pid>/status, in bytes.
func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}, {"", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseInt(num, 10, 64)
			if err != nil || n < 0 {
				return 0, fmt.Errorf("bad size %q", s)
			}
			return n * u.mult, nil
		}
	}
	return 0, fmt.Errorf("bad size %q", s)
}

// goBinary returns the go command of the toolchain running this program.
func goBinary() string {
	if out, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
		return filepath.Join(strings.TrimSpace(string(out)), "bin", "go")
	}
	return "go"
}
