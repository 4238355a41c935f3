package api

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/onvm-network/onvm/client/wire"
)

func TestListenMovesUpWhenPortTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	ln, err := Listen(t.Context(), ":"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := ln.Addr().(*net.TCPAddr)
	if got.Port <= port || !got.IP.IsLoopback() {
		t.Errorf("bound %v, want 127.0.0.1 above port %d", got, port)
	}
}

func TestListenRejectsBadAddress(t *testing.T) {
	for _, a := range []string{"nope", "1.2.3.4", "127.0.0.1:http"} {
		if ln, err := Listen(t.Context(), a); err == nil {
			ln.Close()
			t.Errorf("Listen(%q) succeeded", a)
		}
	}
}

func TestReadinessUnavailableWhileShuttingDown(t *testing.T) {
	n := newTestNode(t, nil)
	resp, _ := n.do("GET", "/health/readiness", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("before shutdown: %d", resp.StatusCode)
	}
	if err := n.srv.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	n.srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/health/readiness", nil))
	var h wire.Readiness
	json.Unmarshal(rec.Body.Bytes(), &h)
	if rec.Code != http.StatusServiceUnavailable || h.Status != wire.ReadinessUnavailable {
		t.Errorf("during shutdown: %d %+v", rec.Code, h)
	}
}

// TestShutdownDrainsInFlightUpload starts an upload, begins shutdown while
// it is half sent, then finishes it: the upload succeeds and Shutdown
// returns only after it.
func TestShutdownDrainsInFlightUpload(t *testing.T) {
	n := newTestNode(t, nil)
	data := randomBytes(t, 100000)
	pr, pw := io.Pipe()
	type result struct {
		code int
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Post(n.url+"/blobs", "", pr)
		if err != nil {
			res <- result{err: err}
			return
		}
		resp.Body.Close()
		res <- result{code: resp.StatusCode}
	}()
	pw.Write(data[:50000])
	waitFor(t, "upload in flight", func() bool { return len(n.tempFiles()) > 0 })
	shut := make(chan error, 1)
	go func() { shut <- n.srv.Shutdown(t.Context()) }()
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) with an upload in flight", err)
	case <-time.After(100 * time.Millisecond): // a negative check: nothing to wait for
	}
	pw.Write(data[50000:])
	pw.Close()
	r := <-res
	if r.err != nil || r.code != 201 {
		t.Fatalf("in-flight upload: %d %v", r.code, r.err)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if blobs, _ := n.store.Usage(); blobs != 1 {
		t.Errorf("%d blobs after drain, want 1", blobs)
	}
}

func TestShutdownGraceBound(t *testing.T) {
	n := newTestNode(t, func(o *Options) { o.RPC.ShutdownGrace = 200 * time.Millisecond })
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() {
		resp, err := http.Post(n.url+"/blobs", "", pr)
		if err == nil {
			resp.Body.Close()
		}
	}()
	pw.Write(make([]byte, 1000))
	waitFor(t, "upload in flight", func() bool { return len(n.tempFiles()) > 0 })
	start := time.Now()
	n.srv.Shutdown(t.Context()) // the upload never finishes: cut after the grace
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Shutdown took %v with a 200ms grace", d)
	}
	waitFor(t, "temp files removed", func() bool { return len(n.tempFiles()) == 0 })
}

func TestPacer(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		minRate int64
		n       int64
		at      time.Duration
		want    time.Duration // deadline relative to t0
	}{
		{"idle rule at start", 0, 0, 0, 10 * time.Second},
		{"idle rule later", 0, 0, time.Minute, time.Minute + 10*time.Second},
		{"rate rule binds a trickle", 1000, 5000, time.Minute, 15 * time.Second},
		{"fast client keeps idle rule", 1000, 1 << 30, time.Minute, time.Minute + 10*time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pacer{start: t0, idle: 10 * time.Second, minRate: tt.minRate, n: tt.n}
			got, ok := p.next(t0.Add(tt.at))
			if !ok || !got.Equal(t0.Add(tt.want)) {
				t.Errorf("next = %v, %v; want %v", got.Sub(t0), ok, tt.want)
			}
			if _, ok := p.next(t0.Add(tt.at + time.Millisecond)); ok {
				t.Error("a deadline that moved 1ms was set again")
			}
		})
	}
}
