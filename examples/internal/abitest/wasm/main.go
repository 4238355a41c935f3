// Command wasm is abitest built as an ONVM program (test-only; not
// committed as a binary).
package main

import (
	"github.com/onvm-network/onvm/examples/internal/abitest"
	"github.com/onvm-network/onvm/guest"
)

func main() {}

func init() { guest.Handle(abitest.Handle) }
