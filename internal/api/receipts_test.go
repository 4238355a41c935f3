package api

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/onvm-network/onvm/client/wire"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/state"
)

func TestReceiptsOverHTTP(t *testing.T) {
	n := newProgramNode(t, 1)
	p := n.deployJSON(sampleWasm(t, "kvstore"), "onvm_main", "s")
	const puts = 5
	results := make([]wire.ExecuteResult, puts)
	for i := range puts {
		results[i] = n.mustExecute(p, fmt.Appendf(nil, `{"op":"put","key":"k%d","data_base64":"djE="}`, i))
	}
	c := n.committeeOf(p)

	// Pages of 2, in height order, chained root to root.
	var all []wire.ReceiptSummary
	path := "/programs/" + p + "/receipts?limit=2"
	for {
		var page wire.ReceiptPage
		n.getJSON(path, &page)
		all = append(all, page.Receipts...)
		if page.NextCursor == nil {
			break
		}
		path = "/programs/" + p + "/receipts?limit=2&cursor=" + *page.NextCursor
	}
	if len(all) != puts {
		t.Fatalf("%d receipts", len(all))
	}
	prev := state.EmptyRoot.String()
	for i, s := range all {
		if s.Height != uint64(i+1) || s.StateRootIn != prev || s.ReceiptID != results[i].ReceiptID ||
			s.StateRootOut != results[i].StateRoot || s.GasUsed != results[i].Fuel || s.SignerBitmap != "01" {
			t.Fatalf("receipt %d: %+v", i, s)
		}
		prev = s.StateRootOut
	}

	// The full receipt verifies offline against the committee.
	for _, s := range all {
		var d wire.Receipt
		n.getJSON("/receipts/"+s.ReceiptID, &d)
		raw, err := base64.StdEncoding.DecodeString(d.CBORBase64)
		if err != nil {
			t.Fatal(err)
		}
		agg, err := consensus.DecodeCertifiedReceipt(raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := agg.Verify(c); err != nil {
			t.Fatal(err)
		}
		if agg.Receipt.ID().String() != s.ReceiptID || d.StateRootOut != s.StateRootOut || d.AggregateSignature != agg.Certificate.Signature.String() || d.OutputBase64 == nil {
			t.Fatalf("detail %+v", d)
		}
	}

	// Historical proofs: the key written at height h is absent at h-1 and
	// present from h on.
	for h := 1; h <= puts; h++ {
		key := fmt.Appendf(nil, "k%d", h-1)
		out, in := mustHash(t, all[h-1].StateRootOut), mustHash(t, all[h-1].StateRootIn)
		at := checkProof(t, n, p, "&height="+strconv.Itoa(h), key, out)
		before := checkProof(t, n, p, "&height="+strconv.Itoa(h-1), key, in)
		if !*at.Present || *before.Present {
			t.Fatalf("height %d: present %v before %v", h, *at.Present, *before.Present)
		}
		byRoot := checkProof(t, n, p, "&root="+all[h-1].StateRootOut, key, out)
		if !*byRoot.Present {
			t.Fatal("proof by root")
		}
	}

	errs := []struct {
		path   string
		status int
		code   string
	}{
		{"/receipts/" + strings.Repeat("0", 64), 404, "not_found"},
		{"/receipts/zz", 400, "invalid_id"},
		{"/programs/" + p + "/receipts?cursor=x", 400, "invalid_cursor"},
		{"/programs/" + p + "/receipts?limit=0", 400, "invalid_limit"},
		{"/programs/prog" + strings.Repeat("1", 64) + "/receipts", 404, "not_found"},
		{"/programs/" + p + "/state-root?key=zz", 400, "invalid_hex"},
		{"/programs/" + p + "/state-root?key=00&height=99", 404, "not_found"},
		{"/programs/" + p + "/state-root?key=00&root=" + strings.Repeat("1", 64), 404, "unknown_root"},
		{"/programs/" + p + "/state-root?root=00&height=1", 400, "invalid_request"},
	}
	for _, e := range errs {
		resp, body := n.do("GET", e.path, nil, nil)
		if resp.StatusCode != e.status || !strings.Contains(string(body), `"code":"`+e.code+`"`) {
			t.Fatalf("%s: %d %s", e.path, resp.StatusCode, body)
		}
	}
	_, body := n.do("GET", "/receipts/"+strings.Repeat("0", 64), nil, nil)
	golden(t, "receipt_unknown.json", body)
}
