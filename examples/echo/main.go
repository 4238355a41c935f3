// Command echo is the smallest ONVM program: its output is its input with
// the ASCII letters upper-cased; every other byte (including non-ASCII
// UTF-8) is copied unchanged. It uses no state and no host functions.
//
// Build: make examples (see ../README.md).
package main

import "github.com/onvm-network/onvm/guest"

func main() {}

func init() { guest.Handle(handle) }

func handle(_ *guest.Context, input []byte) ([]byte, error) {
	out := make([]byte, len(input))
	for i, c := range input {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		out[i] = c
	}
	return out, nil
}
