package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/onvm-network/onvm/internal/id"
)

func TestNormalizeRPC(t *testing.T) {
	tests := []struct{ in, want string }{
		{":8080", "http://127.0.0.1:8080"},
		{"127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"node.example:9000/", "http://node.example:9000"},
		{"http://10.0.0.1:1", "http://10.0.0.1:1"},
		{"https://n.example", "https://n.example"},
		{" :1 ", "http://127.0.0.1:1"},
	}
	for _, tt := range tests {
		got, err := NormalizeRPC(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeRPC(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := New(""); err == nil {
		t.Error("New(\"\") succeeded")
	}
	for _, bad := range []string{"ftp://h:1", "h:0", "h:65536", "h:http", "http://h:x", "http://:8080", "h:", "http://u:p@h:1", "h:1?x=1"} {
		if got, err := NormalizeRPC(bad); err == nil {
			t.Errorf("NormalizeRPC(%q) = %q, want an error", bad, got)
		}
	}
}

// fakeNode serves one blob, optionally with wrong bytes.
func fakeNode(t *testing.T, data, served []byte) *Client {
	t.Helper()
	blobID := id.BlobOf(data).String()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "POST" && r.URL.Path == "/blobs":
			b, _ := io.ReadAll(r.Body)
			if r.Header.Get("X-Mime") != "text/plain" {
				w.WriteHeader(400)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(201)
			io.WriteString(w, `{"id":"`+id.BlobOf(b).String()+`","size":`+strconv.Itoa(len(b))+`}`)
		case r.URL.Path == "/blobs/"+blobID:
			w.Header().Set("Content-Length", strconv.Itoa(len(served)))
			w.Write(served)
		case r.URL.Path == "/teapot":
			w.WriteHeader(418)
			io.WriteString(w, "short and stout")
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(404)
			io.WriteString(w, `{"error":{"code":"not_found","message":"blob not found"}}`)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestUploadBlob(t *testing.T) {
	c := fakeNode(t, nil, nil)
	ref, err := c.UploadBlob(t.Context(), strings.NewReader("hello"), 5, "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	if ref.ID != id.BlobOf([]byte("hello")).String() || ref.Size != 5 || !ref.Created {
		t.Errorf("ref = %+v", ref)
	}
}

func TestGetBlobVerifies(t *testing.T) {
	data := []byte("the real bytes")
	tests := []struct {
		name   string
		served []byte
		ok     bool
	}{
		{"good", data, true},
		{"substituted", []byte("the fake bytes"), false},
		{"truncated", data[:5], false},
		{"empty", []byte{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeNode(t, data, tt.served)
			var out bytes.Buffer
			_, err := c.GetBlob(t.Context(), id.BlobOf(data).String(), &out)
			if tt.ok {
				if err != nil || !bytes.Equal(out.Bytes(), data) {
					t.Fatalf("GetBlob = %q, %v", out.Bytes(), err)
				}
				return
			}
			if !errors.Is(err, ErrMismatch) {
				t.Fatalf("err = %v, want ErrMismatch", err)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	c := fakeNode(t, nil, nil)
	_, err := c.BlobInfo(t.Context(), id.BlobOf([]byte("x")).String())
	var e *Error
	if !errors.As(err, &e) || e.Status != 404 || e.Code != "not_found" || e.Message != "blob not found" || !IsNotFound(err) {
		t.Fatalf("err = %#v", err)
	}
	if _, err := c.BlobInfo(t.Context(), "prog"+strings.Repeat("0", 64)); !errors.Is(err, id.ErrSyntax) {
		t.Errorf("prog id: err = %v, want id.ErrSyntax", err)
	}
	// A non-JSON error body still becomes an *Error.
	err = c.getJSON(t.Context(), "/teapot", &struct{}{})
	if !errors.As(err, &e) || e.Status != 418 || e.Message != "short and stout" {
		t.Fatalf("err = %#v", err)
	}
}

func TestServerDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, _ := New(url)
	err := c.Health(context.Background())
	var e *Error
	if err == nil || errors.As(err, &e) {
		t.Fatalf("err = %v, want a transport error", err)
	}
}
