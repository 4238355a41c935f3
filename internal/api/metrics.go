package api

import (
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the API's Prometheus collectors, registered on the node's own
// registry.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	bytesIn  *prometheus.CounterVec
	bytesOut *prometheus.CounterVec
	handler  http.Handler
}

func newMetrics(reg *prometheus.Registry, blobs BlobStore, version string) *metrics {
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onvm_http_requests_total", Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "onvm_http_request_duration_seconds", Help: "HTTP request latency by route pattern and method.",
			Buckets: []float64{.001, .005, .025, .1, .5, 2.5, 10, 60, 300},
		}, []string{"route", "method"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onvm_http_request_body_bytes_total", Help: "Request body bytes read, by route pattern.",
		}, []string{"route"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onvm_http_response_body_bytes_total", Help: "Response body bytes written, by route pattern.",
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration, m.bytesIn, m.bytesOut,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "onvm_build_info", Help: "Always 1; the version label says which build runs.",
			ConstLabels: prometheus.Labels{"version": version},
		}, func() float64 { return 1 }),
	)
	if blobs != nil {
		reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "onvm_blob_store_blobs", Help: "Complete blobs in the local store.",
			}, func() float64 { n, _ := blobs.Usage(); return float64(n) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "onvm_blob_store_bytes", Help: "Total size of the complete blobs in the local store.",
			}, func() float64 { _, b := blobs.Usage(); return float64(b) }),
		)
	}
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	return m
}

func (m *metrics) serve(w http.ResponseWriter, r *http.Request) { m.handler.ServeHTTP(w, r) }

// middleware counts every request under the route pattern the mux matched
// (r.Pattern), so ids in paths never become label values.
//
// It hands the handlers a shallow copy of the request with the counting
// body: net/http looks at the Body of the request it passed in to decide,
// when the response starts, whether to read what is left of an unread body
// (up to 256 KiB) before answering. Replacing that Body would make it read
// a body the client may never send (it waits for 100 Continue, or for the
// answer), so an early refusal would hang until the read deadline.
// countingWriter also asks for the connection to be closed after any
// answer given before the body was read to its end (closeUnread).
func (m *metrics) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		body := &countingBody{ReadCloser: r.Body}
		r = r.WithContext(r.Context())
		r.Body = body
		cw := &countingWriter{w: w, req: r, body: body}
		defer func() {
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			code := cw.status
			if code == 0 {
				code = http.StatusOK
			}
			m.requests.WithLabelValues(route, r.Method, strconv.Itoa(code)).Inc()
			m.duration.WithLabelValues(route, r.Method).Observe(time.Since(start).Seconds())
			m.bytesIn.WithLabelValues(route).Add(float64(body.n))
			m.bytesOut.WithLabelValues(route).Add(float64(cw.n))
		}()
		next.ServeHTTP(cw, r)
	})
}

type countingBody struct {
	io.ReadCloser
	n   int64
	eof bool // a Read returned io.EOF
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

type countingWriter struct {
	w      http.ResponseWriter
	req    *http.Request
	body   *countingBody
	status int
	n      int64
}

func (w *countingWriter) Header() http.Header { return w.w.Header() }

func (w *countingWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
		w.closeUnread()
	}
	w.w.WriteHeader(code)
}

// closeUnread marks the response "Connection: close" when the request
// has a body that was not read to its end: the client may be holding it
// back (Expect: 100-continue, or waiting for the refusal it expects), and
// the connection cannot be reused without reading it. Without the header
// net/http would read up to 256 KiB of it before sending the answer. Only
// HTTP/1: an HTTP/2 stream is refused on its own.
func (w *countingWriter) closeUnread() {
	r := w.req
	if r.ProtoMajor != 1 || r.ContentLength == 0 || w.body.ReadCloser == http.NoBody || w.body.eof {
		return
	}
	w.w.Header().Set("Connection", "close")
}

func (w *countingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
		w.closeUnread()
	}
	n, err := w.w.Write(b)
	w.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.w }
