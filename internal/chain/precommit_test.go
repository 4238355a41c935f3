package chain

import (
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// TestPreCommit checks Request.PreCommit: its writes commit with the
// transition, its error aborts the transition leaving state and height as
// they were, after is told whether the batch was applied, and a replayed
// request does not call it.
func TestPreCommit(t *testing.T) {
	e := newEnv(t, 1)
	p := e.deploy(t, sample(t, "kvstore"), "onvm_main", "s")
	put := func(k string) []byte { return []byte(`{"op":"put","key":"` + k + `","data_base64":"djE="}`) }
	extra := []byte("j/test/extra")

	var applied []bool
	calls := 0
	hook := func(b *pebble.Batch, o *Outcome) (func(bool), error) {
		calls++
		if o.Receipt == nil || len(o.Output) == 0 {
			t.Errorf("hook outcome %+v", o)
		}
		if err := b.Set(extra, o.Receipt.Receipt.ID().Bytes(), nil); err != nil {
			return nil, err
		}
		return func(ok bool) { applied = append(applied, ok) }, nil
	}
	o, err := e.engine.Execute(t.Context(), Request{Program: p, Input: put("a"), RequestID: "r1", PreCommit: hook})
	if err != nil {
		t.Fatal(err)
	}
	v, closer, err := e.db.Get(extra)
	if err != nil {
		t.Fatalf("hook write not committed: %v", err)
	}
	if string(v) != string(o.ReceiptID().Bytes()) {
		t.Fatal("hook write differs from the receipt id")
	}
	closer.Close()
	if calls != 1 || len(applied) != 1 || !applied[0] {
		t.Fatalf("calls %d, applied %v", calls, applied)
	}

	// Replay: no hook call.
	if o, err := e.engine.Execute(t.Context(), Request{Program: p, Input: put("a"), RequestID: "r1", PreCommit: hook}); err != nil || !o.Replayed || calls != 1 {
		t.Fatalf("replay: %v %+v, %d calls", err, o, calls)
	}

	// Abort: nothing committed.
	head, _ := e.engine.Head(p)
	root := head.Root
	errAbort := errors.New("job no longer running")
	_, err = e.engine.Execute(t.Context(), Request{Program: p, Input: put("b"), RequestID: "r2",
		PreCommit: func(b *pebble.Batch, o *Outcome) (func(bool), error) { return nil, errAbort }})
	if !errors.Is(err, errAbort) {
		t.Fatalf("aborted execute: %v", err)
	}
	after, _ := e.engine.Head(p)
	if after.Height != head.Height || after.Root != root {
		t.Fatalf("aborted transition committed: height %d → %d", head.Height, after.Height)
	}
	// The aborted request id was not recorded: it executes afresh.
	if o, err := e.engine.Execute(t.Context(), Request{Program: p, Input: put("b"), RequestID: "r2"}); err != nil || o.Replayed {
		t.Fatalf("after abort: %v %+v", err, o)
	}
}
