package api

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"

	"github.com/onvm-network/onvm/client/wire"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// stateRoot returns p's current root, or the root after ?height=N, or the
// given ?root=HEX; with ?key=HEX also the key's value and its membership or
// non-membership proof under that root.
func (s *Server) stateRoot(w http.ResponseWriter, r *http.Request) {
	m, ok := s.manifestOf(w, r)
	if !ok {
		return
	}
	p := m.Body.Program
	q := r.URL.Query()
	out := wire.StateRoot{ProgramID: p.String()}
	var root id.Hash
	switch {
	case q.Has("root") && q.Has("height"):
		s.writeError(w, r, badRequest(wire.CodeInvalidRequest, "give root or height, not both", nil))
		return
	case q.Has("root"):
		var err error
		if root, err = id.ParseHash(q.Get("root")); err != nil {
			s.writeError(w, r, err)
			return
		}
	case q.Has("height"):
		h, err := strconv.ParseUint(q.Get("height"), 10, 64)
		if err != nil {
			s.writeError(w, r, badRequest(wire.CodeInvalidHeight, "height is not a non-negative integer", err))
			return
		}
		if root, err = s.opts.Programs.RootAt(p, h); err != nil {
			s.writeError(w, r, err)
			return
		}
		out.Height = &h
	default:
		head, err := s.opts.Programs.Head(p)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		root, out.Height = head.Root, &head.Height
	}
	out.Root = root.String()
	if q.Has("key") {
		key, err := hex.DecodeString(q.Get("key"))
		if err != nil {
			s.writeError(w, r, badRequest(wire.CodeInvalidHex, "key is not hex", err))
			return
		}
		pr, err := s.opts.Programs.Prove(p, root, key)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out.Proof = texts(pr.Siblings[:])
		out.Present = &pr.Present
		kh := hex.EncodeToString(key)
		out.KeyHex = &kh
		if pr.Present {
			v := hex.EncodeToString(pr.Value)
			out.ValueHex = &v
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// summary is one receipt of GET /programs/{id}/receipts: the original's
// fields (gas_used is the fuel used) plus height, request id, fuel and
// logical timestamp.
func summary(a *consensus.CertifiedReceipt) wire.ReceiptSummary {
	r := &a.Receipt
	return wire.ReceiptSummary{
		ProgramID: r.Program.String(), Height: r.Height, StateRootIn: r.StateRootIn.String(),
		StateRootOut: r.StateRootOut.String(), WriteDigest: r.WriteDigest.String(), GasUsed: r.FuelUsed, Fuel: r.FuelUsed,
		SignerBitmap: hex.EncodeToString(a.Certificate.Signers), Epoch: r.Epoch, ReceiptID: r.ID().String(),
		RequestID: r.RequestID.String(), TimestampMS: r.Timestamp,
	}
}

// programReceipts lists p's receipts in height order; ?cursor= is the
// height to start from (the previous page's next_cursor).
func (s *Server) programReceipts(w http.ResponseWriter, r *http.Request) {
	p, err := id.ParseProgram(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	limit, err := pageLimit(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	from := uint64(1)
	if c := r.URL.Query().Get("cursor"); c != "" {
		if from, err = strconv.ParseUint(c, 10, 64); err != nil || from == 0 {
			s.writeError(w, r, badRequest(wire.CodeInvalidCursor, "cursor is not a height", err))
			return
		}
	}
	rs, next, err := s.opts.Programs.Receipts(p, from, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := wire.ReceiptPage{Receipts: make([]wire.ReceiptSummary, len(rs))}
	for i := range rs {
		out.Receipts[i] = summary(&rs[i])
	}
	if next != 0 {
		c := strconv.FormatUint(next, 10)
		out.NextCursor = &c
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getReceipt(w http.ResponseWriter, r *http.Request) {
	rid, err := id.ParseHash(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rec, err := s.opts.Programs.Receipt(rid)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, receiptDetail(&rec.Receipt, len(rec.Writes), rec.HasOutput, rec.Output))
}

// receiptDetail is the answer to GET /receipts/{id}: every receipt field,
// its place in its certified batch, the certificate's signer bitmap and
// aggregate signature, and the certified receipt's canonical CBOR
// (cbor_base64), from which a client verifies it offline against the
// committee's public keys.
func receiptDetail(a *consensus.CertifiedReceipt, writes int, hasOutput bool, output []byte) wire.Receipt {
	r := &a.Receipt
	d := wire.Receipt{
		ReceiptID: r.ID().String(), ProgramID: r.Program.String(), Height: r.Height, StateRootIn: r.StateRootIn.String(),
		StateRootOut: r.StateRootOut.String(), InputHash: r.InputHash.String(), RequestID: r.RequestID.String(),
		Fuel: r.FuelUsed, GasUsed: r.FuelUsed, WriteDigest: r.WriteDigest.String(), OutputHash: r.OutputHash.String(),
		CodeHash: r.CodeHash.String(), WasmEnvHash: r.EnvHash.String(), TimestampMS: r.Timestamp,
		Executor: r.Executor.String(), Epoch: r.Epoch,
		Batch:        batchOf(a),
		SignerBitmap: hex.EncodeToString(a.Certificate.Signers), AggregateSignature: a.Certificate.Signature.String(),
		WriteCount: writes, CBORBase64: b64(a.Encode()),
	}
	if hasOutput {
		o := b64(output)
		d.OutputBase64 = &o
	}
	return d
}

// batchOf is where a receipt sits in its certified batch.
func batchOf(a *consensus.CertifiedReceipt) wire.Batch {
	b := &a.Certificate.Ballot
	path := make([]string, len(a.Path))
	for i, h := range a.Path {
		path[i] = h.String()
	}
	return wire.Batch{Height: b.Height, Round: b.Round, Root: b.Value.String(), Index: a.Index, Count: a.Count, Path: path}
}
