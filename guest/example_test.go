package guest_test

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/onvm-network/onvm/guest"
	"github.com/onvm-network/onvm/guest/guesttest"
)

// A handler counts its calls in the program's state. Registered with
// guest.Handle from an init function it is the module's onvm_main; here
// package guesttest runs it against an in-memory host.
func Example() {
	counter := func(ctx *guest.Context, input []byte) ([]byte, error) {
		n := 0
		switch v, err := ctx.State.Get([]byte("count")); {
		case err == nil:
			n, _ = strconv.Atoi(string(v))
		case !errors.Is(err, guest.ErrNotFound):
			return nil, err
		}
		n++
		if err := ctx.State.Put([]byte("count"), []byte(strconv.Itoa(n))); err != nil {
			return nil, err // aborts the call: nothing is written
		}
		return fmt.Appendf(nil, "%s #%d", input, n), nil
	}

	h := guesttest.New()
	for _, in := range []string{"hello", "again"} {
		out, err := h.Call(counter, []byte(in))
		fmt.Println(string(out), err)
	}
	v, _ := h.Value([]byte("count"))
	fmt.Println("count =", string(v))
	// Output:
	// hello #1 <nil>
	// again #2 <nil>
	// count = 2
}

// A handler's error aborts the call and discards every write it staged.
func ExampleHandler_error() {
	h := guesttest.New()
	_, err := h.Call(func(ctx *guest.Context, _ []byte) ([]byte, error) {
		if err := ctx.State.Put([]byte("k"), []byte("v")); err != nil {
			return nil, err
		}
		return nil, errors.New("refused")
	}, nil)
	_, stored := h.Value([]byte("k"))
	fmt.Println(err, stored)
	// Output:
	// refused false
}
