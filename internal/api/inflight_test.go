package api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/onvm-network/onvm/internal/auth"
	"github.com/onvm-network/onvm/internal/id"
)

type acceptAll struct{}

func (acceptAll) Verify(id.Node, string, string, auth.Headers) error { return nil }

// TestInflightPerProject: a project gets at most max slots at once, another project is not
// affected, a released slot can be taken again, and without authentication nothing is
// bounded.
func TestInflightPerProject(t *testing.T) {
	s := &Server{opts: Options{Auth: AuthOptions{Verifier: acceptAll{}}}}
	l := newInflight("executions", 2)
	req := func(project string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/execute", nil)
		r.Header.Set(auth.HeaderProjectID, project)
		return r
	}
	rel1, err := s.acquire(l, req("a"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.acquire(l, req("a")); err != nil {
		t.Fatal(err)
	}
	_, err = s.acquire(l, req("a"))
	var re *requestError
	if !errors.As(err, &re) || re.status != http.StatusTooManyRequests || re.code != "too_many_in_flight" {
		t.Fatalf("third slot of a: %v, want 429 too_many_in_flight", err)
	}
	if code, name, _ := status(err); code != 429 || name != "too_many_in_flight" {
		t.Fatalf("status = %d %s", code, name)
	}
	if _, err := s.acquire(l, req("b")); err != nil {
		t.Fatalf("project b: %v", err)
	}
	rel1()
	if _, err := s.acquire(l, req("a")); err != nil {
		t.Fatalf("after a release: %v", err)
	}
	open := &Server{}
	for range 5 {
		if _, err := open.acquire(l, req("a")); err != nil {
			t.Fatalf("without authentication: %v", err)
		}
	}
}
