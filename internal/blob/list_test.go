package blob

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/onvm-network/onvm/internal/id"
)

func TestList(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	if got, err := e.s.List(ctx, nil, 10); err != nil || len(got) != 0 {
		t.Fatalf("List of an empty store = %v, %v; want none", got, err)
	}
	var want []id.Blob
	for i := range 7 {
		info, _, err := e.s.Put(ctx, bytes.NewReader(fmt.Appendf(nil, "blob %d", i)), "")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, info.ID)
	}
	slices.SortFunc(want, func(a, b id.Blob) int { return bytes.Compare(a[:], b[:]) })

	// Pages of 3 walk every id once, in id order.
	var got []id.Blob
	var after *id.Blob
	for {
		page, err := e.s.List(ctx, after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 3 {
			t.Fatalf("page of %d ids, limit 3", len(page))
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		last := page[len(page)-1]
		after = &last
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged List = %v, want %v", got, want)
	}

	// A deleted blob is no longer listed.
	if err := e.s.Delete(ctx, want[2]); err != nil {
		t.Fatal(err)
	}
	all, err := e.s.List(ctx, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	if want := slices.Delete(slices.Clone(want), 2, 3); !slices.Equal(all, want) {
		t.Fatalf("List after Delete = %v, want %v", all, want)
	}

	e.s.Close()
	if _, err := e.s.List(ctx, nil, 1); err == nil {
		t.Fatal("List on a closed store succeeded")
	}
}
