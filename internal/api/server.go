package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"syscall"

	"github.com/onvm-network/onvm/internal/config"
)

// maxPortTries bounds how far a taken RPC port is moved up.
const maxPortTries = 100

// Listen binds the RPC address (see config.NormalizeListen). When the port
// is taken, the next ports are tried, like the original; port 0 picks any.
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	hostport, err := config.NormalizeListen(addr)
	if err != nil {
		return nil, fmt.Errorf("rpc listen: %w", err)
	}
	host, p, _ := net.SplitHostPort(hostport)
	port, err := strconv.Atoi(p)
	if err != nil {
		return nil, fmt.Errorf("rpc listen %s: numeric port required", hostport)
	}
	var lc net.ListenConfig
	for try := 0; ; try++ {
		ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err == nil {
			return ln, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) || port == 0 || port >= 65535 || try+1 >= maxPortTries {
			return nil, fmt.Errorf("rpc listen %s: %w", hostport, err)
		}
		port++
	}
}

// newHTTPServer builds the http.Server: header, idle and size limits here,
// body deadlines per request (deadline.go).
func (s *Server) newHTTPServer() *http.Server {
	rpc := s.opts.RPC
	return &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: rpc.ReadHeaderTimeout,
		IdleTimeout:       rpc.IdleTimeout,
		MaxHeaderBytes:    2 * rpc.MaxHeaderBytes, // backstop; strict.go enforces rpc.max_header_bytes in JSON
		BaseContext:       func(net.Listener) context.Context { return s.base },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

// Serve serves the API on ln until Shutdown; it returns nil after a clean
// shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := s.srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections and lets in-flight requests finish
// for up to rpc.shutdown_grace (or until ctx ends); then it cancels the
// requests still running and closes their connections. Readiness reports
// Unavailable (503) from the first moment.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	ctx, cancel := context.WithTimeout(ctx, s.opts.RPC.ShutdownGrace)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.log.Warn("shutdown grace ran out; closing remaining connections", "err", err)
		s.hardStop()
		err = s.srv.Close()
	}
	s.hardStop()
	return err
}
