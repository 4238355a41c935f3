package p2p

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/dagtest"
	"github.com/onvm-network/onvm/internal/id"
)

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// BenchmarkPropagation measures how long an operation proposed on one
// node takes to be applied on every node of a 16-node in-process cluster
// (ring plus random chords, so most paths take several hops), next to the
// same measure between two directly connected nodes.
func BenchmarkPropagation(b *testing.B) {
	measure := func(b *testing.B, n, extra int) (p50, p99 time.Duration) {
		c := newCluster(b, n, fastConfig())
		var mu sync.Mutex
		applied := map[id.Hash]int{}
		done := map[id.Hash]chan struct{}{}
		for _, nd := range c.nodes {
			nd.cat.OnApply = func(o dag.Op, _ *dag.Vertex) {
				h := id.Sum(o.Body)
				mu.Lock()
				defer mu.Unlock()
				if applied[h]++; applied[h] == n {
					if ch := done[h]; ch != nil {
						close(ch)
					}
				}
			}
		}
		if n == 2 {
			c.connect(0, 1)
		} else {
			c.meshTopology(extra, 13)
		}
		warm := c.proposeConcurrently(1, seq(0, n)...) // first syncs run
		c.waitConverged(60*time.Second, warm)
		time.Sleep(3 * time.Second) // gossipsub grafts its meshes at heartbeats (1 s)
		// At least 100 operations whatever b.N, so that one run with
		// -benchtime 1x still yields a meaningful p99.
		var lat []time.Duration
		b.ResetTimer()
		for i := range max(b.N, 100) {
			nd := c.nodes[i%n]
			body := fmt.Appendf(nil, "bench-%d-%d", n, i)
			ch := make(chan struct{})
			mu.Lock()
			done[id.Sum(body)] = ch
			mu.Unlock()
			start := time.Now()
			v, _, err := nd.d.Propose(context.Background(), []dag.Op{dagtest.Op(body)})
			if err != nil {
				b.Fatal(err)
			}
			nd.net.Announce(context.Background(), v)
			select {
			case <-ch:
			case <-time.After(30 * time.Second):
				b.Fatalf("operation %d not applied everywhere", i)
			}
			lat = append(lat, time.Since(start))
		}
		b.StopTimer()
		return percentile(lat, 0.5), percentile(lat, 0.99)
	}
	var base time.Duration
	b.Run("2-nodes", func(b *testing.B) {
		p50, p99 := measure(b, 2, 0)
		base = p50
		b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	})
	b.Run("16-nodes", func(b *testing.B) {
		p50, p99 := measure(b, 16, 2)
		b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
		if base > 0 {
			b.ReportMetric(float64(p99)/float64(base), "p99/2node-p50")
		}
		b.Logf("16 nodes: p50 %v p99 %v (target p99 ≤ 500ms); 2 nodes p50 %v", p50, p99, base)
	})
}

// BenchmarkBlobFetch fetches a 256 MiB blob between two production hosts
// over loopback TCP and, in the same run, copies the same bytes over a raw
// loopback TCP connection.
func BenchmarkBlobFetch(b *testing.B) {
	const size = 256 << 20
	data := make([]byte, size)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < size; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			data[i+j] = byte(v >> (8 * j))
		}
	}
	raw := rawTCPCopy(b, data)
	tlsCopy := tlsTCPCopy(b, data)
	tcpOnly := "/ip4/127.0.0.1/tcp/0"
	ha, hb := newTestHost(b, 10, tcpOnly), newTestHost(b, 11, tcpOnly)
	stores := make([]*blob.Store, 2)
	svcs := make([]*BlobService, 2)
	for i := range stores {
		st, err := blob.Open(blob.Options{Dir: b.TempDir(), DB: dagtest.DB(b)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = st.Close() })
		stores[i] = st
	}
	svcs[0] = NewBlobService(ha, stores[0], NewProviderBook(), nil, NewScores(), BlobConfig{}, nil)
	svcs[1] = NewBlobService(hb, stores[1], NewProviderBook(), nil, NewScores(), BlobConfig{}, nil)
	start := time.Now()
	info, _, err := stores[0].Put(context.Background(), bytes.NewReader(data), "application/octet-stream")
	if err != nil {
		b.Fatal(err)
	}
	local := float64(size) / time.Since(start).Seconds() / 1e6 // hash, write, fsync: the floor under any fetch
	if err := hb.Connect(context.Background(), peer.AddrInfo{ID: ha.ID(), Addrs: ha.Addrs()}); err != nil {
		b.Fatal(err)
	}
	var total, cpu time.Duration
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		_ = stores[1].Delete(context.Background(), info.ID)
		b.StartTimer()
		start, cpu0 := time.Now(), cpuTime()
		if _, err := svcs[1].Fetch(context.Background(), info.ID, ha.ID()); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		cpu += cpuTime() - cpu0
	}
	b.StopTimer()
	fetch := float64(size) * float64(b.N) / total.Seconds() / 1e6
	// Both nodes run in this process, so the process's CPU time is the
	// whole fetch's (server and client). With every core on it and nothing
	// else running, a fetch could not pass cpuBound.
	cpuPerFetch := cpu.Seconds() / float64(b.N)
	cpuBound := float64(runtime.GOMAXPROCS(0)) * float64(size) / cpuPerFetch / 1e6
	b.ReportMetric(fetch, "fetch-MB/s")
	b.ReportMetric(raw, "rawtcp-MB/s")
	b.ReportMetric(fetch/raw, "fetch/raw")
	b.ReportMetric(fetch/local, "fetch/local-put")
	b.ReportMetric(fetch/tlsCopy, "fetch/tls-copy")
	b.ReportMetric(cpuPerFetch, "cpu-s/fetch")
	b.ReportMetric(cpuBound, "cpu-bound-MB/s")
	b.Logf("256 MiB blob: fetch %.0f MB/s, raw TCP copy %.0f MB/s, ratio %.2f (target ≥ 0.5); TLS copy %.0f MB/s (fetch/tls %.2f, tls/raw %.2f); "+
		"local Put of the same bytes %.0f MB/s (fetch/put %.2f); %.2f CPU-s per fetch, so at most %.0f MB/s on %d cores (fetch/cpu-bound %.2f, cpu-bound/raw %.2f)",
		fetch, raw, fetch/raw, tlsCopy, fetch/tlsCopy, tlsCopy/raw, local, fetch/local, cpuPerFetch, cpuBound, runtime.GOMAXPROCS(0), fetch/cpuBound, cpuBound/raw)
}

// rawTCPCopy returns the MB/s of copying data over a loopback TCP
// connection, from memory to a discarding reader.
func rawTCPCopy(b *testing.B, data []byte) float64 {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	return copyOver(b, "raw copy", l, data, func() (net.Conn, error) { return net.Dial("tcp", l.Addr().String()) })
}

// tlsTCPCopy is rawTCPCopy through crypto/tls (TLS 1.3, AES-GCM, the
// cipher libp2p's TLS picks here): the cost of encrypting and decrypting
// the bytes, with nothing else a fetch does.
func tlsTCPCopy(b *testing.B, data []byte) float64 {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"bench"}}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, pub, priv)
	if err != nil {
		b.Fatal(err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13})
	if err != nil {
		b.Fatal(err)
	}
	return copyOver(b, "TLS copy", l, data, func() (net.Conn, error) {
		c, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13})
		if err != nil {
			return nil, err
		}
		return c, c.Handshake() // timed from after the handshake
	})
}

// copyOver serves data once on l, dials it, and returns the MB/s of
// reading it all into a discarding reader.
func copyOver(b *testing.B, what string, l net.Listener, data []byte, dial func() (net.Conn, error)) float64 {
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = c.Write(data)
	}()
	c, err := dial()
	if c != nil {
		defer c.Close()
	}
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	n, err := io.Copy(io.Discard, c)
	if err != nil || n != int64(len(data)) {
		b.Fatalf("%s: %d bytes, %v", what, n, err)
	}
	return float64(n) / time.Since(start).Seconds() / 1e6
}

// BenchmarkFreshSync has a node with an empty DAG pull 10,000 vertices
// from a peer over the sync protocol, next to inserting the same vertices
// locally (no network) and to verifying their signatures alone.
func BenchmarkFreshSync(b *testing.B) {
	const vertices = 10000
	raws := makeHistory(b, vertices, 4)
	// Baselines: verification alone (one core), local batch insertion.
	start := time.Now()
	for _, r := range raws[:2000] {
		if _, err := dag.Decode(r); err != nil {
			b.Fatal(err)
		}
	}
	verify := 2000 / time.Since(start).Seconds()
	local := dagtest.Open(b, nil, dagtest.NewRecorder())
	start = time.Now()
	if _, err := local.AddRaw(context.Background(), "x", raws); err != nil {
		b.Fatal(err)
	}
	localRate := vertices / time.Since(start).Seconds()

	var total time.Duration
	for range b.N {
		b.StopTimer()
		c := newCluster(b, 2, Config{Discovery: DiscoveryConfig{DisableDHT: true}, Sync: SyncConfig{Interval: time.Hour}})
		if _, err := c.nodes[0].d.AddRaw(context.Background(), "history", raws); err != nil {
			b.Fatal(err)
		}
		c.connect(0, 1)
		b.StartTimer()
		start := time.Now()
		if err := c.nodes[1].net.syncer.SyncWith(context.Background(), c.nodes[0].h.ID()); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		b.StopTimer()
		if c.nodes[1].d.Len() != vertices {
			b.Fatalf("synced %d", c.nodes[1].d.Len())
		}
	}
	rate := vertices * float64(b.N) / total.Seconds()
	b.ReportMetric(rate, "vertices/s")
	b.ReportMetric(rate/localRate, "sync/local-insert")
	b.ReportMetric(rate/verify, "sync/1-core-verify")
	b.Logf("fresh sync %.0f vertices/s (target ≥ 5000); local insert %.0f/s; signature checks alone %.0f/s on one core", rate, localRate, verify)
}

// BenchmarkIdle measures one node connected to 8 peers that run in a
// separate process, over real loopback TCP: its resident memory growth
// and CPU use while nothing happens (gossipsub heartbeats, DHT and sync
// rounds, pings) over a 20 s window.
func BenchmarkIdle(b *testing.B) {
	if os.Getenv("ONVM_IDLE_PEERS") != "" {
		b.Skip("child")
	}
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-test.run=TestIdlePeers", "-test.v")
	cmd.Env = append(os.Environ(), "ONVM_IDLE_PEERS=8")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	var addrs []peer.AddrInfo
	sc := bufio.NewScanner(out)
	for len(addrs) < 8 && sc.Scan() {
		if s, ok := strings.CutPrefix(sc.Text(), "PEER "); ok {
			ai, err := peer.AddrInfoFromString(s)
			if err != nil {
				b.Fatal(err)
			}
			addrs = append(addrs, *ai)
		}
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	if len(addrs) < 8 {
		b.Fatal("child did not start its peers")
	}
	settle := func() (rss int64, heap uint64) {
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return rssKiB(), ms.HeapInuse
	}
	rss0, heap0 := settle()
	h := newTestHost(b, 20, "/ip4/127.0.0.1/tcp/0")
	n, err := New(context.Background(), h, dagtest.Open(b, dagtest.Key(20), dagtest.NewRecorder()), nil,
		Config{Discovery: DiscoveryConfig{Bootnodes: addrs}})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	if err := n.WaitForPeers(context.Background(), 8); err != nil {
		b.Fatal(err)
	}
	time.Sleep(5 * time.Second) // let meshes and the DHT settle before measuring
	cpu0, wall0 := cpuTime(), time.Now()
	b.ResetTimer()
	time.Sleep(20 * time.Second)
	b.StopTimer()
	cpu := float64(cpuTime()-cpu0) / float64(time.Since(wall0))
	rss1, heap1 := settle()
	b.ReportMetric(cpu*100, "idle-cpu-%")
	b.ReportMetric(float64(int64(heap1)-int64(heap0))/(1<<20), "node-heap-MiB")
	b.ReportMetric(float64(rss1-rss0)/1024, "node-rss-MiB")
	b.Logf("idle with 8 peers: %.2f%% of one core; the node holds %.1f MiB of live heap, resident memory +%.1f MiB (process %.1f MiB)",
		cpu*100, float64(int64(heap1)-int64(heap0))/(1<<20), float64(rss1-rss0)/1024, float64(rss1)/1024)
}

// TestIdlePeers is BenchmarkIdle's child process: it runs the peers and
// prints their addresses, then waits to be killed.
func TestIdlePeers(t *testing.T) {
	k, _ := strconv.Atoi(os.Getenv("ONVM_IDLE_PEERS"))
	if k == 0 {
		t.Skip("run by BenchmarkIdle")
	}
	var first []peer.AddrInfo
	for i := range k {
		h := newTestHost(t, 30+i, "/ip4/127.0.0.1/tcp/0")
		n, err := New(context.Background(), h, dagtest.Open(t, dagtest.Key(30+i), nil), nil, Config{Discovery: DiscoveryConfig{Bootnodes: first}})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		ai := peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}
		if i == 0 {
			first = []peer.AddrInfo{ai}
		}
		ma, _ := peer.AddrInfoToP2pAddrs(&ai)
		fmt.Println("PEER " + ma[0].String())
	}
	select {}
}

func rssKiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
