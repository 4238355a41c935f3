// Command analytics summarises a text and a list of numbers: BLAKE3 of the
// text, its tokens and most frequent ones, mean/variance/min/max of the
// numbers, and optionally the text LZ4-compressed. Its input and output
// formats are byte-compatible with the original ONVM analytics sample.
//
// Input: {"text": string?, "numbers": [f64]?, "include_compressed": bool}.
// Output: {"blake3_hex","text_len","token_count","top_tokens","numbers",
// "compressed_len","compressed_b64"}, or {"error": "..."}.
//
// Build: make examples (see ../README.md).
package main

import (
	"encoding/base64"
	"errors"

	"github.com/onvm-network/onvm/examples/internal/blake3"
	"github.com/onvm-network/onvm/examples/internal/lz4"
	"github.com/onvm-network/onvm/examples/internal/serde"
	"github.com/onvm-network/onvm/guest"
)

func main() {}

func init() { guest.Handle(handle) }

type input struct {
	text              string
	numbers           []float64
	hasNumbers        bool
	includeCompressed bool
}

// handle never fails the call: bad input yields {"error": …}.
func handle(_ *guest.Context, raw []byte) ([]byte, error) {
	if msg := serde.Utf8Error(raw); msg != "" {
		return errorOutput("utf8: " + msg), nil
	}
	in, err := parseInput(raw)
	if err != nil {
		return errorOutput("invalid json input: " + err.Error()), nil
	}
	text := []byte(in.text)
	tokens, top := topTokens(in.text, 5)

	var o serde.Obj
	o.Str("blake3_hex", blake3.Hex(text)).
		Uint("text_len", uint64(len(text))).
		Uint("token_count", uint64(tokens)).
		Raw("top_tokens", top)
	if in.hasNumbers {
		o.Raw("numbers", numberStats(in.numbers))
	} else {
		o.Null("numbers")
	}
	if in.includeCompressed {
		c := lz4.CompressPrependSize(text)
		o.Uint("compressed_len", uint64(len(c))).Str("compressed_b64", base64.StdEncoding.EncodeToString(c))
	} else {
		o.Null("compressed_len").Null("compressed_b64")
	}
	return o.Bytes(), nil
}

func parseInput(raw []byte) (input, error) {
	var in input
	v, err := serde.Parse(raw)
	if err != nil {
		return in, err
	}
	f, err := serde.AsFields(v, "struct Input")
	if err != nil {
		return in, err
	}
	if t, ok, err := f.Optional("text"); err != nil {
		return in, err
	} else if ok {
		if in.text, err = t.Str(); err != nil {
			return in, err
		}
	}
	if n, ok, err := f.Optional("numbers"); err != nil {
		return in, err
	} else if ok {
		if n.Kind != serde.Array {
			return in, errors.New("invalid type: " + n.Unexpected() + ", expected a sequence")
		}
		in.hasNumbers = true
		in.numbers = make([]float64, len(n.Items))
		for i, item := range n.Items {
			if in.numbers[i], err = item.Float64(); err != nil {
				return in, err
			}
		}
	}
	if b, ok, err := f.Get("include_compressed"); err != nil {
		return in, err
	} else if ok {
		if in.includeCompressed, err = b.Boolean(); err != nil {
			return in, err
		}
	}
	return in, nil
}

func errorOutput(msg string) []byte {
	var o serde.Obj
	return o.Str("error", msg).Bytes()
}
