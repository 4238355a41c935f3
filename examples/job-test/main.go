// Command job-test is a CPU-bound test program for the job system: tasks
// compute, hash, transform and stress run a fixed amount of integer work
// and report a result string. Its input and output formats are
// byte-compatible with the original ONVM job-test sample. It uses no state.
//
// Input: {"task": string, "iterations": u32 (default 10), "data": string?}.
// Output: {"status","result","iterations_completed","fuel_estimate"}.
//
// Build: make examples (see ../README.md).
package main

import (
	"errors"
	"strconv"

	"github.com/onvm-network/onvm/examples/internal/serde"
	"github.com/onvm-network/onvm/guest"
)

func main() {}

func init() { guest.Handle(handle) }

const defaultIterations = 10

type request struct {
	task       string
	iterations uint32
	data       string
	hasData    bool
}

// handle never fails the call: errors are outputs with status "error".
func handle(_ *guest.Context, raw []byte) ([]byte, error) {
	if msg := serde.Utf8Error(raw); msg != "" {
		return failure("utf8 error: " + msg), nil
	}
	req, err := parseRequest(raw)
	if err != nil {
		return failure("invalid json: " + err.Error()), nil
	}
	var result string
	switch req.task {
	case "compute":
		result = "computed result: " + strconv.FormatUint(compute(req.data, req.iterations), 10)
	case "hash":
		result = "hash: " + hex16(hash(req.dataOr("default-data"), req.iterations))
	case "transform":
		result = "transformed: " + transform(req.dataOr("hello world"))
	case "stress":
		result = "stress test completed: " + strconv.FormatUint(uint64(req.iterations), 10) +
			" iterations, sum: " + strconv.FormatUint(stress(req.iterations), 10)
	default:
		return failure("unknown task: " + req.task), nil
	}
	// The estimate is u32 arithmetic, wrapping like the original's release
	// build.
	estimate := 10_000 + req.iterations*1_000
	var o serde.Obj
	return o.Str("status", "success").Str("result", result).
		Uint("iterations_completed", uint64(req.iterations)).
		Str("fuel_estimate", "~"+strconv.FormatUint(uint64(estimate), 10)+" fuel units").Bytes(), nil
}

func (r request) dataOr(def string) string {
	if r.hasData {
		return r.data
	}
	return def
}

func parseRequest(raw []byte) (request, error) {
	req := request{iterations: defaultIterations}
	v, err := serde.Parse(raw)
	if err != nil {
		return req, err
	}
	f, err := serde.AsFields(v, "struct JobInput")
	if err != nil {
		return req, err
	}
	task, err := f.Required("task")
	if err != nil {
		return req, err
	}
	if req.task, err = task.Str(); err != nil {
		return req, err
	}
	if it, ok, err := f.Optional("iterations"); err != nil {
		return req, err
	} else if ok {
		if req.iterations, err = it.Uint32(); err != nil {
			return req, err
		}
	}
	if d, ok, err := f.Optional("data"); err != nil {
		return req, err
	} else if ok {
		if req.data, err = d.Str(); err != nil {
			return req, err
		}
		req.hasData = true
	}
	return req, nil
}

func failure(msg string) []byte {
	var o serde.Obj
	return o.Str("status", "error").Str("result", msg).Uint("iterations_completed", 0).
		Str("fuel_estimate", "unknown").Bytes()
}

var errNotU64 = errors.New("not a u64")

// parseU64 parses s as Rust's u64::from_str does: an optional '+' and
// decimal digits, no overflow.
func parseU64(s string) (uint64, error) {
	if len(s) > 1 && s[0] == '+' {
		s = s[1:]
	}
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, errNotU64
	}
	return strconv.ParseUint(s, 10, 64)
}
