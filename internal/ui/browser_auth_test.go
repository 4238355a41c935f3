package ui_test

import (
	"bytes"
	"encoding/hex"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/onvm-network/onvm/internal/api"
	"github.com/onvm-network/onvm/internal/auth"
	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/config"
	"github.com/onvm-network/onvm/internal/id"
)

// TestBrowserSignIn: on an API with authentication on, the dashboard
// loads unsigned, refuses a wrong secret with a message, and after
// signing in with the project's credentials its requests (signed in the
// browser with WebCrypto) pass the node's verification. A reload forgets
// the secret.
func TestBrowserSignIn(t *testing.T) {
	exe := chromium(t)
	dir := t.TempDir()
	base, secret := apiServer(t, dir, true)

	b := browser(t, exe, dir)
	ctx := b.ctx
	signIn := func(secretHex string) {
		t.Helper()
		b.do("sign in", chromedp.WaitVisible(chromedp.CSS(`#login input[name=secret]`)),
			chromedp.SetValue(chromedp.CSS(`#login input[name=project]`), "webproj"),
			chromedp.SetValue(chromedp.CSS(`#login input[name=secret]`), secretHex),
			chromedp.Click(chromedp.CSS(`#login button[type=submit]`)))
	}

	// Unsigned, the page loads and says what is missing.
	b.do("load", chromedp.Navigate(base+"/ui/#/blobs/"+id.BlobOf([]byte("x")).String()), chromedp.WaitVisible(chromedp.CSS(`#page .error`)))
	if got := b.text("#page .error"); !strings.Contains(got, "401") {
		t.Errorf("unsigned page shows %q, want the 401 and a hint", got)
	}

	// A wrong secret is refused with a message, and stays signed out.
	signIn(strings.Repeat("00", 32))
	b.do("wrong secret", chromedp.WaitVisible(chromedp.CSS(`#login-error`)))
	if got := b.text("#login-error"); !strings.Contains(got, "bad_signature") {
		t.Errorf("wrong secret shows %q", got)
	}

	// The right one signs in; the signed request for the blob reaches the
	// handler (404 for a blob this store does not have: past auth).
	signIn(hex.EncodeToString(secret))
	b.do("signed in", chromedp.WaitVisible(chromedp.CSS(`#login button.secondary`)))
	if got := b.text("#login"); !strings.Contains(got, "webproj") {
		t.Errorf("signed-in header shows %q", got)
	}
	b.do("signed request", chromedp.Navigate(base+"/ui/#/blobs/"+id.BlobOf([]byte("y")).String()), chromedp.WaitVisible(chromedp.CSS(`#page .error`)))
	if got := b.text("#page .error"); !strings.Contains(got, "404") {
		t.Errorf("signed lookup shows %q, want 404 not_found (past authentication)", got)
	}
	secretLeft, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("#login input[name=secret]") !== null`))
	if err != nil || secretLeft {
		t.Errorf("secret field still in the page after sign-in (%v)", err)
	}

	// A reload forgets the credentials: nothing is stored.
	b.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#login input[name=secret]`)))
	stored, err := chromedp.Run(ctx, chromedp.Evaluate[int](`localStorage.length + sessionStorage.length + document.cookie.length`))
	if err != nil || stored != 0 {
		t.Errorf("storage after reload: %d (%v)", stored, err)
	}

	for _, p := range b.problems() {
		// The refused requests above are logged by the browser as failed
		// loads; the page shows them.
		if strings.Contains(p, "status of 401") || strings.Contains(p, "status of 404") {
			continue
		}
		t.Errorf("browser: %s", p)
	}
}

// apiServer serves the API over a blob store of dir on a loopback port
// and returns its URL. With auth it verifies signed requests and has one
// project, "webproj", whose secret it returns.
func apiServer(t *testing.T, dir string, withAuth bool) (base string, secret []byte) {
	t.Helper()
	db, err := pebble.Open("auth", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	var opts api.AuthOptions
	if withAuth {
		store, err := auth.Open(db, bytes.Repeat([]byte{7}, 32), auth.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if _, secret, err = store.Create("webproj", nil); err != nil {
			t.Fatal(err)
		}
		opts.Verifier = store
	}
	blobs, err := blob.Open(blob.Options{Dir: filepath.Join(dir, "blobs"), DB: db, MaxSize: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = blobs.Close() })
	rpc := config.Default().RPC
	rpc.MaxBlobSize = 8 << 20
	srv := api.New(api.Options{RPC: rpc, Dev: !withAuth, Blobs: blobs, NodeID: id.Node{0xab}, Auth: opts})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv.Handler()}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	return "http://" + ln.Addr().String(), secret
}
