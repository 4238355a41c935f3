package cli

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestRunNodeTLS: --rpc-tls-cert/--rpc-tls-key serve HTTPS; clients need
// --rpc-ca for a self-signed certificate.
func TestRunNodeTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeSelfSigned(t, dir)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	var logs lockedBuf
	go func() {
		done <- Main(ctx, []string{"run-node", "--dev", "--data-dir", filepath.Join(dir, "data"), "--rpc", "127.0.0.1:0",
			"--listen", "/ip4/127.0.0.1/tcp/0", "--rpc-tls-cert", cert, "--rpc-tls-key", key}, strings.NewReader(""), &logs, &logs)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("run-node exit %d:\n%s", code, logs.String())
		}
	})
	var url string
	deadline := time.Now().Add(30 * time.Second)
	for url == "" {
		if b, err := os.ReadFile(filepath.Join(dir, "data", "rpc.url")); err == nil {
			url = strings.TrimSpace(string(b))
		} else if time.Now().After(deadline) {
			t.Fatalf("no rpc.url:\n%s", logs.String())
		} else {
			time.Sleep(20 * time.Millisecond) // polling for the node's start
		}
	}
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("rpc.url = %q, want https", url)
	}
	run := func(args ...string) (int, string) {
		var out bytes.Buffer
		code := Main(t.Context(), args, strings.NewReader(""), &out, &out)
		return code, out.String()
	}
	if code, out := run("auth-check", "--rpc", url, "--rpc-ca", cert); code != 0 || !strings.Contains(out, "ok (authentication is off") {
		t.Fatalf("auth-check with CA: %d %s", code, out)
	}
	t.Setenv("ONVM_RPC_CA", cert)
	if code, out := run("auth-check", "--rpc", url); code != 0 {
		t.Fatalf("auth-check with ONVM_RPC_CA: %d %s", code, out)
	}
	t.Setenv("ONVM_RPC_CA", "")
	if code, out := run("auth-check", "--rpc", url); code == 0 || !strings.Contains(out, "certificate") {
		t.Fatalf("auth-check without CA: %d %s", code, out)
	}
}

// TestCredentialPrecedence: flags > --credentials > environment pair >
// ONVM_CREDENTIALS.
func TestCredentialPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := func(name, id string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("# creds\nproject_id="+id+"\nproject_secret="+strings.Repeat("ab", 32)+"\n"), 0o600)
		return p
	}
	fileA, fileB := file("a", "from-flag-file"), file("b", "from-env-file")
	secret := strings.Repeat("cd", 32)
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		want  string
		usage bool
	}{
		{"none", nil, nil, "", false},
		{"flags", []string{"--project-id", "p1", "--project-secret", secret, "--credentials", fileA}, map[string]string{"ONVM_PROJECT_ID": "e"}, "p1", false},
		{"file flag over env", []string{"--credentials", fileA}, map[string]string{"ONVM_PROJECT_ID": "e", "ONVM_PROJECT_SECRET": secret}, "from-flag-file", false},
		{"env pair over env file", nil, map[string]string{"ONVM_PROJECT_ID": "e", "ONVM_PROJECT_SECRET": secret, "ONVM_CREDENTIALS": fileB}, "e", false},
		{"env file", nil, map[string]string{"ONVM_CREDENTIALS": fileB}, "from-env-file", false},
		{"half pair", []string{"--project-id", "p1"}, nil, "", true},
		{"bad secret", []string{"--project-id", "p1", "--project-secret", "xyz"}, nil, "", true},
		{"missing file", []string{"--credentials", filepath.Join(dir, "nope")}, nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &env{getenv: func(k string) string { return tt.env[k] }}
			cmd := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }}
			addAuthFlags(cmd.Flags())
			if err := cmd.ParseFlags(tt.args); err != nil {
				t.Fatal(err)
			}
			c, err := e.credentials(cmd)
			var ue usageError
			if tt.usage != (err != nil && asUsage(err, &ue)) {
				t.Fatalf("err = %v, usage error wanted: %v", err, tt.usage)
			}
			got := ""
			if c != nil {
				got = c.ProjectID
			}
			if got != tt.want {
				t.Fatalf("project = %q, want %q", got, tt.want)
			}
		})
	}
}

func asUsage(err error, ue *usageError) bool { return errors.As(err, ue) }

func writeSelfSigned(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "onvm"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key
}
