package replica

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/dag/dagtest"
	"github.com/onvm-network/onvm/internal/p2p"
	"github.com/onvm-network/onvm/internal/program"
	"github.com/onvm-network/onvm/internal/wasm"
)

// TestForwardedErrors checks that an error a leader gives crosses the
// network as the same class, so the forwarding node's API answers as the
// leader's would have.
func TestForwardedErrors(t *testing.T) {
	leader := dagtest.Node(dagtest.Key(1))
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"unknown program", fmt.Errorf("execute x: %w", chain.ErrNotFound), chain.ErrNotFound},
		{"unknown manifest", fmt.Errorf("program x: %w", program.ErrNotFound), chain.ErrNotFound},
		{"input too large", chain.ErrInputTooLarge, chain.ErrInputTooLarge},
		{"request conflict", chain.ErrRequestConflict, chain.ErrRequestConflict},
		{"not in committee", chain.ErrNotInCommittee, chain.ErrNotInCommittee},
		{"leader below min peers", p2p.ErrNotEnoughPeers, p2p.ErrNotEnoughPeers},
		{"code not verified yet", ErrProgramPending, ErrProgramPending},
		{"anything else", errors.New("disk on fire"), p2p.ErrRemote},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := roundTrip(t, encodeErr(tt.err)).decode(leader)
			if !errors.Is(got, tt.want) {
				t.Fatalf("decoded %v, want %v", got, tt.want)
			}
			if errors.Is(tt.want, p2p.ErrRemote) && bytes.Contains([]byte(got.Error()), []byte("fire")) {
				t.Fatalf("an internal error's detail crossed the network: %v", got)
			}
		})
	}
	for _, kind := range []wasm.ErrorKind{wasm.KindOutOfFuel, wasm.KindWritesTooLarge} {
		t.Run("guest failure keeps kind, fuel and logs/"+kind.String(), func(t *testing.T) {
			in := &wasm.Error{Kind: kind, Message: "ran out", FuelUsed: 42,
				Logs: []wasm.Log{{Source: "guest", Level: 2, Message: "hi"}}}
			got := roundTrip(t, encodeErr(fmt.Errorf("execute: %w", in))).decode(leader)
			var we *wasm.Error
			if !errors.As(got, &we) {
				t.Fatalf("decoded %v, want a *wasm.Error", got)
			}
			if diff := cmp.Diff(in, we, cmp.AllowUnexported(wasm.Error{})); diff != "" {
				t.Fatalf("(-sent +received):\n%s", diff)
			}
		})
	}
}

func roundTrip(t *testing.T, e *fwdErr) *fwdErr {
	t.Helper()
	b, err := codec.Marshal(&fwdResp{Err: e})
	if err != nil {
		t.Fatal(err)
	}
	var r fwdResp
	if err := codec.Unmarshal(b, &r); err != nil || r.Err == nil {
		t.Fatalf("decode: %v", err)
	}
	return r.Err
}

// FuzzForwardPayloads feeds arbitrary bytes to the decoders of forwarded
// requests (from peers) and answers (from leaders): no panic, and what is
// accepted is canonical.
func FuzzForwardPayloads(f *testing.F) {
	f.Add(codec.MustMarshal(&fwdReq{Input: []byte("x"), RequestID: "r", Fuel: 1}))
	f.Add(codec.MustMarshal(&fwdResp{Output: []byte("o"), Err: &fwdErr{Code: "wasm", Kind: 1}}))
	f.Add([]byte{0xa1, 0x01, 0x40})
	f.Fuzz(func(t *testing.T, b []byte) {
		var req fwdReq
		if codec.Unmarshal(b, &req) == nil && !bytes.Equal(codec.MustMarshal(&req), b) {
			t.Fatal("a non-canonical request was accepted")
		}
		var resp fwdResp
		if codec.Unmarshal(b, &resp) == nil {
			if !bytes.Equal(codec.MustMarshal(&resp), b) {
				t.Fatal("a non-canonical answer was accepted")
			}
			if resp.Err != nil {
				_ = resp.Err.decode(dagtest.Node(dagtest.Key(1)))
			}
		}
	})
}
