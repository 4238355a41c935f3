package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/onvm-network/onvm/client/wire"
	"github.com/onvm-network/onvm/internal/blob"
	"github.com/onvm-network/onvm/internal/id"
)

func (s *Server) blobRoutes(r *router) {
	r.handle(http.MethodPost, "/blobs", s.putBlob)
	r.handle(http.MethodGet, "/blobs/{id}", s.getBlob)
	r.handle(http.MethodGet, "/blobs/{id}/info", s.blobInfo)
}

// defaultMIME is served for blobs stored without a type.
const defaultMIME = "application/octet-stream"

// putBlob streams the request body into the store: 201 for new bytes, 200
// when they were already stored.
func (s *Server) putBlob(w http.ResponseWriter, r *http.Request) {
	mimeType, err := uploadMIME(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	max := s.opts.RPC.MaxBlobSize
	if r.ContentLength > max {
		s.writeError(w, r, blob.ErrTooLarge)
		return
	}
	body := newPacedReader(http.MaxBytesReader(w, r.Body, max), http.NewResponseController(w),
		s.opts.RPC.StreamIdleTimeout, s.opts.RPC.StreamMinRate)
	info, existed, err := s.opts.Blobs.Put(r.Context(), body, mimeType)
	if err != nil {
		var mbe *http.MaxBytesError
		if rerr := body.err; rerr != nil && !errors.As(rerr, &mbe) {
			err = errUploadAborted(rerr)
		}
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/blobs/"+info.ID.String())
	code := http.StatusCreated
	if existed {
		code = http.StatusOK
	}
	writeJSON(w, code, wire.BlobRef{ID: info.ID.String(), Size: info.Size})
}

// uploadMIME returns the blob's media type from x-mime, else Content-Type,
// else the default; a malformed type is a 400.
func uploadMIME(r *http.Request) (string, error) {
	v := r.Header.Get("X-Mime")
	if v == "" {
		v = r.Header.Get("Content-Type")
	}
	if v == "" {
		return defaultMIME, nil
	}
	if len(v) > 255 {
		return "", badRequest(wire.CodeInvalidMIME, "media type longer than 255 bytes", nil)
	}
	base, params, err := mime.ParseMediaType(v)
	if err != nil {
		return "", badRequest(wire.CodeInvalidMIME, "malformed media type", err)
	}
	return mime.FormatMediaType(base, params), nil
}

// getBlob streams a blob, verified as it is read, with Range, HEAD and
// If-None-Match handled by http.ServeContent.
func (s *Server) getBlob(w http.ResponseWriter, r *http.Request) {
	b, err := id.ParseBlob(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rd, err := s.opts.Blobs.Open(r.Context(), b)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer func() { _ = rd.Close() }()
	info, err := s.opts.Blobs.Stat(r.Context(), b)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	ct := info.MIME
	if ct == "" {
		ct = defaultMIME
	}
	h.Set("Content-Type", ct)
	h.Set("ETag", `"`+b.String()+`"`)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	setBlobSafetyHeaders(h, ct)

	if emptySuffixRange(r.Header.Get("Range")) {
		h.Set("Content-Range", "bytes */"+strconv.FormatInt(info.Size, 10))
		s.writeError(w, r, statusError(http.StatusRequestedRangeNotSatisfiable))
		return
	}
	pw := newPacedWriter(w, http.NewResponseController(w), s.opts.RPC.StreamIdleTimeout, s.opts.RPC.StreamMinRate)
	src := &recordingReader{r: rd}
	http.ServeContent(pw, r, "", time.Time{}, src)
	if st := pw.failed(); st != 0 {
		// ServeContent answered 412 or 416 in plain text; answer in JSON.
		s.writeError(pw.discard(), r, statusError(st))
		return
	}
	if src.err != nil {
		if !pw.committed() {
			// Nothing was sent yet: a proper error response.
			s.writeError(pw.discard(), r, src.err)
			return
		}
		// Bytes are out: cut the connection so the client cannot take a
		// short body for the whole blob.
		s.log.Error("blob read failed mid-response", "blob", b.String(), "err", src.err)
		panic(http.ErrAbortHandler)
	}
	pw.finish()
}

// blobInfo returns a blob's metadata.
func (s *Server) blobInfo(w http.ResponseWriter, r *http.Request) {
	b, err := id.ParseBlob(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	info, err := s.opts.Blobs.Stat(r.Context(), b)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if info.MIME == "" {
		info.MIME = defaultMIME
	}
	writeJSON(w, http.StatusOK, wire.BlobInfo{
		ID: info.ID.String(), Size: info.Size, MIME: info.MIME, Groups: info.Groups,
		Complete: info.Complete, CreatedAt: info.CreatedAt.UTC(),
	})
}

// passiveTypes are shown inline; every other type is served as an
// attachment, so a stored HTML or SVG page never runs in the API's origin.
var passiveTypes = map[string]bool{
	"application/octet-stream": true, "text/plain": true, "application/json": true,
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true, "image/avif": true,
	"audio/mpeg": true, "audio/ogg": true, "audio/wav": true, "video/mp4": true, "video/webm": true,
	"application/wasm": true,
}

// setBlobSafetyHeaders stops browsers from sniffing or running stored
// content: nosniff, a sandboxing CSP that forbids every resource, and
// attachment disposition for anything not known to be passive.
func setBlobSafetyHeaders(h http.Header, contentType string) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	base, _, err := mime.ParseMediaType(contentType)
	if err != nil || !passiveTypes[base] {
		h.Set("Content-Disposition", "attachment")
	}
}

// recordingReader remembers the first read error other than EOF, which
// http.ServeContent would otherwise swallow.
type recordingReader struct {
	r   io.ReadSeeker
	err error
}

func (r *recordingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && r.err == nil {
		r.err = err
	}
	return n, err
}

func (r *recordingReader) Seek(off int64, whence int) (int64, error) {
	n, err := r.r.Seek(off, whence)
	if err != nil && r.err == nil {
		r.err = err
	}
	return n, err
}
