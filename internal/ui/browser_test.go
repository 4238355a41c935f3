package ui_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/nodeproc"
)

// chromium finds Debian's chromium. Under CI (CI=true, where .ci/run
// installs it) a missing browser fails the test; elsewhere it skips.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed; .ci/run installs it (apt-get install chromium)")
	}
	t.Skip("chromium is not installed")
	return ""
}

// TestBrowser drives the dashboard of a real `onvm run-node --dev` in
// headless Chromium: upload a blob and see its id, preview an HTML blob
// without running it, deploy the echo program, execute it and open the
// receipt. Any console error, uncaught exception or CSP violation fails
// the test.
func TestBrowser(t *testing.T) {
	exe := chromium(t)
	bin := nodeproc.Build(t)
	dir := t.TempDir()
	node := nodeproc.Start(t, bin, filepath.Join(dir, "data"))
	base := node.Client.URL()

	b := browser(t, exe, dir)
	ctx := b.ctx
	// settle waits for sel or for an error in the page, which fails the
	// test with its message.
	settle := func(what, sel string) {
		t.Helper()
		b.do(what, chromedp.WaitVisible(chromedp.CSS(sel+", #page .error")))
		msg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("#page .error") || {}).textContent || ""`))
		if err != nil || msg != "" {
			t.Fatalf("%s: the page shows %q (%v)", what, msg, err)
		}
	}

	// GET / redirects to the overview, which shows the node's id.
	b.do("overview", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(".kv dd code")))
	live, err := node.Client.Liveness(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.text("#page"); !strings.Contains(got, live.NodeID) {
		t.Errorf("overview does not show the node id %s:\n%s", live.NodeID, got)
	}

	// Upload a blob through the page; the id it shows is the bytes' BLAKE3.
	data := make([]byte, 5<<20)
	_, _ = rand.Read(data)
	file := filepath.Join(dir, "upload.bin")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	b.do("upload", chromedp.Navigate(base+"/explorer"), chromedp.WaitVisible(chromedp.CSS(`input[type=file]`)),
		chromedp.SetUploadFiles(chromedp.CSS(`input[type=file]`), []string{file}), chromedp.Click(chromedp.CSS(`form button[type=submit]`)))
	settle("upload", "#uploaded")
	uploaded := b.text("#uploaded")
	prog, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.getElementById("upload-progress").position`))
	if err != nil || prog != 1 {
		t.Errorf("progress bar at %v (%v), want finished (1)", prog, err)
	}
	want := id.BlobOf(data).String()
	if !strings.Contains(uploaded, want) {
		t.Errorf("upload shows %q, want id %s", uploaded, want)
	}
	var stored bytes.Buffer
	if _, err := node.Client.GetBlob(ctx, want, &stored); err != nil || !bytes.Equal(stored.Bytes(), data) {
		t.Errorf("stored blob differs from the uploaded file (err %v)", err)
	}

	// An HTML blob whose script would set a flag: the explorer shows its
	// source and the flag never sets.
	html := []byte(`<html><body><script>window.top.pwned = 1; document.title = "pwned"</script><img src=x onerror="window.top.pwned=2"></body></html>`)
	hid, err := node.Client.UploadBlob(ctx, bytes.NewReader(html), int64(len(html)), "text/html")
	if err != nil {
		t.Fatal(err)
	}
	b.do("preview", chromedp.Navigate(base+"/ui/#/blobs/"+hid.ID), chromedp.WaitVisible(chromedp.CSS(`#preview pre`)))
	preview := b.text("#preview pre")
	pwned, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.pwned !== undefined || document.title === "pwned"`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(preview, "<script>") || pwned {
		t.Errorf("HTML blob preview: text %q, script ran %v", preview, pwned)
	}

	// Deploy echo from its .wasm, execute it, open the receipt.
	wasm, err := filepath.Abs(filepath.Join("..", "..", "examples", "echo", "echo.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	b.do("deploy", chromedp.Navigate(base+"/ui/#/programs"), chromedp.WaitVisible(chromedp.CSS(`input[type=file]`)),
		chromedp.SetUploadFiles(chromedp.CSS(`input[type=file]`), []string{wasm}),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)))
	settle("deploy", "#deployed")
	deployed := b.text("#deployed a")
	if !strings.HasPrefix(deployed, "prog") {
		t.Fatalf("deploy shows %q, want a program id", deployed)
	}
	b.do("execute", chromedp.Navigate(base+"/ui/#/execute/"+deployed), chromedp.WaitVisible(chromedp.CSS(`textarea[name=input]`)),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=input]`), "hello from a browser"), chromedp.Click(chromedp.CSS(`form button[type=submit]`)))
	settle("execute", "#exec-result pre.return")
	ret := b.text("#exec-result pre.return")
	b.do("receipt", chromedp.Click(chromedp.CSS(`#open-receipt`)), chromedp.WaitVisible(chromedp.CSS(`#receipt`)))
	receipt := b.text("#receipt")
	if ret != "HELLO FROM A BROWSER" {
		t.Errorf("execute returned %q", ret)
	}
	if !strings.Contains(receipt, `"program_id": "`+deployed+`"`) {
		t.Errorf("receipt does not name the program:\n%s", receipt)
	}

	// A bad id gets a message in the page, not a blank screen.
	b.do("bad id", chromedp.Navigate(base+"/ui/#/blobs/prog00"), chromedp.WaitVisible(chromedp.CSS(`.error`)))
	if bad := b.text(".error"); !strings.Contains(bad, "invalid_id") {
		t.Errorf("malformed id shows %q", bad)
	}

	for _, p := range b.problems() {
		// The bad-id page's failed fetch is logged by the browser as a
		// network error; it is expected and shown in the page.
		if strings.Contains(p, "400 (Bad Request)") {
			continue
		}
		t.Errorf("browser: %s", p)
	}
}

// tab is a headless Chromium page of a test.
type tab struct {
	t        *testing.T
	ctx      context.Context
	problems func() []string // stops collecting; the console errors so far
}

// do runs steps, failing the test with what on an error.
func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// text is the text of the first element sel matches.
func (b *tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// browser starts headless Chromium and returns its page, which collects
// console errors, uncaught exceptions and browser-log errors (CSP
// violations are these).
func browser(t *testing.T, exe, dir string) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.Flag("disable-gpu", true),
		chromedp.UserDataDir(filepath.Join(dir, "chrome")))
	actx, cancel := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancel)

	// Start the browser, then collect every console error, uncaught
	// exception and browser-log error (CSP violations are these).
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var problems []string
	var wg sync.WaitGroup
	cctx, stopConsole := context.WithCancel(ctx)
	wg.Go(func() {
		for m, err := range chromedp.Console(cctx) {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				mu.Lock()
				problems = append(problems, m.String()+" at "+m.URL)
				mu.Unlock()
			}
		}
	})
	return &tab{t: t, ctx: ctx, problems: func() []string {
		stopConsole()
		wg.Wait()
		return problems
	}}
}
