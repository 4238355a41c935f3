package api

import (
	"crypto/tls"
	"fmt"
	"net"
)

// TLSListener wraps ln so the API serves HTTPS with the PEM key pair (TLS
// 1.2 or later, HTTP/1.1). The files are read once; a renewed certificate
// takes effect at the next start.
func TLSListener(ln net.Listener, certFile, keyFile string) (net.Listener, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("rpc tls: load key pair %s: %w", certFile, err)
	}
	return tls.NewListener(ln, &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	}), nil
}
