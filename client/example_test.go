package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/client/wire"
)

// fakeNode answers GET /jobs/{id} for one job with the node's JSON, and
// 404 not_found for any other.
func fakeNode(jobID string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/jobs/"+jobID {
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(wire.ErrorBody{Error: wire.ErrorDetail{Code: wire.CodeNotFound, Message: "job not found"}})
			return
		}
		_ = json.NewEncoder(w).Encode(wire.Job{JobID: jobID, RequestID: "req-1", Status: wire.JobCompleted, FuelConsumed: 4})
	}))
}

// NormalizeRPC turns the CLI's forms of --rpc into a base URL, as New does.
func ExampleNormalizeRPC() {
	for _, rpc := range []string{":8080", "node.example:8080", "https://node.example/"} {
		u, _ := client.NormalizeRPC(rpc)
		fmt.Println(u)
	}
	// Output:
	// http://127.0.0.1:8080
	// http://node.example:8080
	// https://node.example
}

func ExampleClient_Job() {
	jobID := strings.Repeat("ab", 32)
	node := fakeNode(jobID)
	defer node.Close()

	c, err := client.New(node.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	j, err := c.Job(context.Background(), jobID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(j.Status, j.Terminal(), j.FuelConsumed)
	// Output:
	// completed true 4
}

// A node's answer is an *client.Error: match its code or its class with
// errors.Is.
func ExampleErrorCode() {
	node := fakeNode(strings.Repeat("ab", 32))
	defer node.Close()
	c, _ := client.New(node.URL)

	_, err := c.Job(context.Background(), strings.Repeat("cd", 32))
	fmt.Println(errors.Is(err, client.ErrNotFound))
	fmt.Println(errors.Is(err, client.ErrorCode(wire.CodeNotFound)))
	fmt.Println(errors.Is(err, client.ErrJobTerminal))
	var ce *client.Error
	if errors.As(err, &ce) {
		fmt.Println(ce.Status, ce.Code)
	}
	// Output:
	// true
	// true
	// false
	// 404 not_found
}
