package api

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/internal/config"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "onvm test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

func TestTLSListener(t *testing.T) {
	certFile, keyFile := selfSigned(t)
	srv := New(Options{Version: "test", RPC: config.Default().RPC})
	ln, err := Listen(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tln, err := TLSListener(ln, certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(tln)
	t.Cleanup(func() { srv.Shutdown(t.Context()) })
	url := "https://" + ln.Addr().String()

	pool, err := client.LoadRootCAs(certFile)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := client.New(url, client.WithRootCAs(pool))
	if _, err := c.Liveness(t.Context()); err != nil {
		t.Fatalf("https with the CA: %v", err)
	}
	untrusting, _ := client.New(url)
	if _, err := untrusting.Liveness(t.Context()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("https without the CA = %v, want a certificate error", err)
	}
	if _, err := TLSListener(ln, keyFile, certFile); err == nil {
		t.Fatal("swapped key pair accepted")
	}
	if _, err := client.LoadRootCAs(keyFile); err == nil {
		t.Fatal("a key file accepted as CA")
	}
}
