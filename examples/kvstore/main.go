// Command kvstore is a key-value store program: JSON requests put, get,
// list, clear and report statistics on base64 values kept in the program's
// state. Its input and output formats are byte-compatible with the original
// ONVM kvstore sample, quirks included (see handle).
//
// Build: make examples (see ../README.md).
package main

import (
	"errors"

	"github.com/onvm-network/onvm/examples/internal/serde"
	"github.com/onvm-network/onvm/guest"
)

func main() {}

func init() { guest.Handle(handle) }

// request is one decoded input: {"op":"put","key":…,"data_base64":…},
// {"op":"get","key":…}, {"op":"list"}, {"op":"clear"} or {"op":"stats"}.
type request struct {
	op, key, data string
}

// handle answers every request with a JSON object tagged by "status"
// (okput, okget, oklist, okclear, okstats, err). Failures are outputs with
// status "err", never call errors, as in the original.
func handle(ctx *guest.Context, input []byte) ([]byte, error) {
	req, err := parseRequest(input)
	if err != nil {
		return errorResponse("invalid json: " + err.Error()), nil
	}
	s := store{st: ctx.State}
	switch req.op {
	case "put":
		return s.put(req.key, req.data), nil
	case "get":
		return s.get(req.key), nil
	case "list":
		return s.list(), nil
	case "clear":
		return s.clear(), nil
	default: // "stats"
		return s.stats(), nil
	}
}

// parseRequest decodes input as serde decodes the original's internally
// tagged enum: the "op" tag selects the variant, unknown fields are ignored.
func parseRequest(input []byte) (request, error) {
	v, err := serde.Parse(input)
	if err != nil {
		return request{}, err
	}
	f, err := serde.AsFields(v, "internally tagged enum Request")
	if err != nil {
		return request{}, err
	}
	tag, err := f.Required("op")
	if err != nil {
		return request{}, err
	}
	if tag.Kind != serde.String {
		return request{}, errors.New("invalid type: " + tag.Unexpected() + ", expected variant identifier")
	}
	req := request{op: tag.Text}
	switch req.op {
	case "put":
		if req.key, err = stringField(f, "key"); err != nil {
			return request{}, err
		}
		if req.data, err = stringField(f, "data_base64"); err != nil {
			return request{}, err
		}
	case "get":
		if req.key, err = stringField(f, "key"); err != nil {
			return request{}, err
		}
	case "list", "clear", "stats":
	default:
		return request{}, errors.New("unknown variant `" + req.op + "`, expected one of `put`, `get`, `list`, `clear`, `stats`")
	}
	return req, nil
}

func stringField(f serde.Fields, name string) (string, error) {
	v, err := f.Required(name)
	if err != nil {
		return "", err
	}
	return v.Str()
}

func errorResponse(msg string) []byte {
	var o serde.Obj
	return o.Str("status", "err").Str("message", msg).Bytes()
}
