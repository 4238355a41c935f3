package api

import (
	"io"
	"net/http"
	"time"
)

// Deadlines. The http.Server has a header timeout and an idle timeout but
// no whole-request read or write timeout, because a 1 GiB upload on a slow
// link must not be cut at a fixed time. Instead:
//
//   - every request first gets rpc.read_timeout and rpc.write_timeout as
//     connection deadlines (deadlines below);
//   - the streaming blob routes replace them as the body moves: each read or
//     write must make progress within rpc.stream_idle_timeout, and the
//     average rate since the start must stay above rpc.stream_min_rate after
//     a grace period of one stream_idle_timeout (pacer). A trickling client
//     (slowloris) is thus cut within about a minute; a slow honest one is
//     not.

// deadlines sets the default per-request connection deadlines.
func (s *Server) deadlines(next http.Handler) http.Handler {
	rd, wr := s.opts.RPC.ReadTimeout, s.opts.RPC.WriteTimeout
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		now := time.Now()
		_ = rc.SetReadDeadline(now.Add(rd)) // unsupported by test recorders
		_ = rc.SetWriteDeadline(now.Add(wr))
		next.ServeHTTP(w, r)
	})
}

// pacer computes the deadline of the next read or write of a stream.
type pacer struct {
	start   time.Time
	idle    time.Duration
	minRate int64
	n       int64     // bytes moved so far
	last    time.Time // deadline last set
}

func newPacer(idle time.Duration, minRate int64) pacer {
	return pacer{start: time.Now(), idle: idle, minRate: minRate}
}

// next returns the deadline for the next operation and whether it moved
// enough (100ms) since the last one to be worth setting.
func (p *pacer) next(now time.Time) (time.Time, bool) {
	d := now.Add(p.idle)
	if p.minRate > 0 {
		byRate := p.start.Add(p.idle + time.Duration(float64(p.n)/float64(p.minRate)*float64(time.Second)))
		if byRate.Before(d) {
			d = byRate
		}
	}
	if !p.last.IsZero() && d.Sub(p.last) < 100*time.Millisecond {
		return p.last, false
	}
	p.last = d
	return d, true
}

// pacedReader reads a request body under the pacer's read deadlines and
// remembers the first read error, which tells a failed upload caused by the
// client from one caused by the store.
type pacedReader struct {
	r   io.Reader
	rc  *http.ResponseController
	p   pacer
	err error
}

func newPacedReader(r io.Reader, rc *http.ResponseController, idle time.Duration, minRate int64) *pacedReader {
	return &pacedReader{r: r, rc: rc, p: newPacer(idle, minRate)}
}

func (r *pacedReader) Read(b []byte) (int, error) {
	if d, ok := r.p.next(time.Now()); ok {
		_ = r.rc.SetReadDeadline(d)
	}
	n, err := r.r.Read(b)
	r.p.n += int64(n)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}

// pacedWriter writes a response under the pacer's write deadlines. It also
// holds the status line back until the first body byte, so that a read
// error before any byte can still become a proper error response, and it
// swallows the plain-text bodies net/http writes for 4xx statuses so the
// caller can answer in JSON (failed, discard).
type pacedWriter struct {
	w      http.ResponseWriter
	rc     *http.ResponseController
	p      pacer
	status int  // pending status
	sent   bool // status line written to w
}

func newPacedWriter(w http.ResponseWriter, rc *http.ResponseController, idle time.Duration, minRate int64) *pacedWriter {
	return &pacedWriter{w: w, rc: rc, p: newPacer(idle, minRate)}
}

func (w *pacedWriter) Header() http.Header { return w.w.Header() }

func (w *pacedWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *pacedWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.status >= 400 {
		return len(b), nil // swallowed; see failed
	}
	if !w.sent {
		w.w.WriteHeader(w.status)
		w.sent = true
	}
	if d, ok := w.p.next(time.Now()); ok {
		_ = w.rc.SetWriteDeadline(d)
	}
	n, err := w.w.Write(b)
	w.p.n += int64(n)
	return n, err
}

// copyBufferSize is the chunk in which blob bodies are copied to the
// connection: larger than io.Copy's 32 KiB, it halves the per-write cost.
const copyBufferSize = 1 << 20

// ReadFrom copies with a larger buffer than io.Copy's; http.ServeContent
// reaches it through io.CopyN.
func (w *pacedWriter) ReadFrom(r io.Reader) (int64, error) {
	buf := make([]byte, copyBufferSize)
	var n int64
	for {
		m, rerr := io.ReadFull(r, buf)
		if m > 0 {
			k, werr := w.Write(buf[:m])
			n += int64(k)
			if werr != nil {
				return n, werr
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *pacedWriter) Unwrap() http.ResponseWriter { return w.w }

// failed returns the error status net/http chose, or 0.
func (w *pacedWriter) failed() int {
	if w.status >= 400 && !w.sent {
		return w.status
	}
	return 0
}

// committed reports whether the status line was sent.
func (w *pacedWriter) committed() bool { return w.sent }

// discard abandons the pending status and returns the underlying writer.
func (w *pacedWriter) discard() http.ResponseWriter { return w.w }

// finish sends a pending status that had no body (HEAD, 304, empty blob).
func (w *pacedWriter) finish() {
	if !w.sent && w.status != 0 {
		w.w.WriteHeader(w.status)
		w.sent = true
	}
}
