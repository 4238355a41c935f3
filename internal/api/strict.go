package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/onvm-network/onvm/client/wire"
)

// Strict parsing. What a request says is read one way only: a query that
// does not decode, JSON with trailing bytes or unknown fields, base64 of
// another alphabet, and a header block over rpc.max_header_bytes are
// refused with 400 (431) instead of being read past, so a client's mistake
// never turns into a different request than the one it meant (a dropped
// ?salt= became a random salt; {…}xyz committed a transition).

// strict refuses, before routing, a request whose header block is larger
// than rpc.max_header_bytes (431) or whose query does not decode (400).
// The http.Server's own header limit is set higher (server.go) so that
// this check, and not net/http's plain-text answer, is what clients meet.
func (s *Server) strict(next http.Handler) http.Handler {
	limit := s.opts.RPC.MaxHeaderBytes
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if limit > 0 && headerSize(r) > limit {
			s.writeError(w, r, &requestError{status: http.StatusRequestHeaderFieldsTooLarge, code: wire.CodeHeadersTooLarge,
				msg: "request header block is larger than rpc.max_header_bytes (" + strconv.Itoa(limit) + " bytes)"})
			return
		}
		if err := checkQuery(r.URL.RawQuery); err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// headerSize is the size of r's request line and header block as sent
// (the way net/http counts it, give or take the line endings).
func headerSize(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	if r.Host != "" {
		n += len("Host: ") + len(r.Host) + 2
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return n + 2
}

// checkQuery reports the first parameter of a raw query that does not
// decode, by name.
func checkQuery(raw string) error {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(key)
		if err != nil {
			return badRequest(wire.CodeInvalidQuery, "query parameter name "+strconv.Quote(key)+" is not valid URL encoding", nil)
		}
		if strings.Contains(key, ";") {
			return badRequest(wire.CodeInvalidQuery, "query parameter "+strconv.Quote(name)+" contains ';'", nil)
		}
		if _, err := url.QueryUnescape(value); err != nil {
			return badRequest(wire.CodeInvalidQuery, "query parameter "+strconv.Quote(name)+" is not valid URL encoding", nil)
		}
		if strings.Contains(value, ";") {
			return badRequest(wire.CodeInvalidQuery, "query parameter "+strconv.Quote(name)+" contains ';'", nil)
		}
	}
	return nil
}

// decodeJSONBody decodes a JSON body of at most max bytes into v: one
// value, no unknown fields, nothing after it but white space.
func decodeJSONBody(w http.ResponseWriter, r *http.Request, max int64, v any) error {
	if r.ContentLength > max {
		return tooLarge(wire.CodeTooLarge, "request body is larger than the node accepts", nil)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, max))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errTrailingJSON
			if terr != nil {
				err = terr
			}
		}
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(wire.CodeTooLarge, "request body is larger than the node accepts", nil)
		}
		return badRequest(wire.CodeInvalidJSON, "request body is not one valid JSON object of the documented fields", err)
	}
	return nil
}

var errTrailingJSON = errors.New("data after the JSON value")

// decodeBase64 accepts the standard alphabet (RFC 4648 §4) with padding,
// and nothing else: no URL-safe alphabet, no white space, no bits left
// over in the last character.
func decodeBase64(s string) ([]byte, error) {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return nil, base64.CorruptInputError(i) // the decoder would skip them
	}
	return base64.StdEncoding.Strict().DecodeString(s)
}

// emptySuffixRange reports whether a Range header asks for the last zero
// bytes ("bytes=-0"), which no representation can satisfy (RFC 9110
// §14.1.1); http.ServeContent answers it with an empty 206.
func emptySuffixRange(h string) bool {
	spec, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !ok {
		return false
	}
	for _, ra := range strings.Split(spec, ",") {
		ra = strings.TrimSpace(ra)
		if n, ok := strings.CutPrefix(ra, "-"); ok && n != "" && strings.Trim(n, "0") == "" {
			return true
		}
	}
	return false
}
