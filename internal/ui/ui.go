// Package ui is the web dashboard: static files embedded in the binary
// (dist/, built from src/ and clients/ts by go generate) and the handler
// that serves them with strict security headers. It must not talk to the
// node itself: the dashboard runs in the browser and reaches the node only
// through its public HTTP API, signed like any other client.
package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:generate go run ./gen

//go:embed dist
var dist embed.FS

// Files are the embedded dashboard files (index.html, app.js, app.css).
func Files() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // dist is embedded at build time
	}
	return sub
}

// CSP is the Content-Security-Policy of every dashboard response: scripts,
// styles, fetches and images from the node's own origin only (images also
// from blob: URLs, which the blob preview makes from bytes it fetched), no
// inline script or style, no eval, no frames in either direction, no
// plugins, forms and <base> pinned to the origin.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; " +
	"object-src 'none'; frame-src 'none'; worker-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// SetHeaders sets the security headers of a dashboard response.
func SetHeaders(h http.Header) {
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
}

type file struct {
	body  []byte
	ctype string
	etag  string
}

// Handler serves the dashboard under prefix (e.g. "/ui/"): prefix itself
// is index.html, the other files by name; anything else goes to notFound
// (the API's JSON error).
func Handler(prefix string, notFound http.HandlerFunc) http.Handler {
	files := map[string]file{}
	entries, _ := fs.ReadDir(Files(), ".")
	for _, e := range entries {
		b, err := fs.ReadFile(Files(), e.Name())
		if err != nil {
			continue
		}
		sum := sha256.Sum256(b)
		files[e.Name()] = file{body: b, ctype: types[path.Ext(e.Name())], etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, prefix)
		if name == "" {
			name = "index.html"
		}
		f, ok := files[name]
		if !ok {
			notFound(w, r)
			return
		}
		h := w.Header()
		SetHeaders(h)
		if f.ctype != "" {
			h.Set("Content-Type", f.ctype)
		}
		// Revalidate every time: the files change with the binary, and the
		// ETag makes the check a 304.
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", f.etag)
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
	})
}

var types = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}
