package api

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"

	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// StateRoot is the response to GET /programs/{id}/state-root: the
// original's fields (proof and value_hex null without ?key=), plus the
// height the root belongs to and whether the key is present.
type StateRoot struct {
	ProgramID id.Program `json:"program_id"`
	Root      id.Hash    `json:"root"`
	Height    *uint64    `json:"height"`
	Proof     []id.Hash  `json:"proof"`
	ValueHex  *string    `json:"value_hex"`
	Present   *bool      `json:"present,omitempty"`
	KeyHex    *string    `json:"key_hex,omitempty"`
}

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
	out := StateRoot{ProgramID: p}
	switch {
	case q.Has("root") && q.Has("height"):
		s.writeError(w, r, badRequest("invalid_request", "give root or height, not both", nil))
		return
	case q.Has("root"):
		root, err := id.ParseHash(q.Get("root"))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out.Root = root
	case q.Has("height"):
		h, err := strconv.ParseUint(q.Get("height"), 10, 64)
		if err != nil {
			s.writeError(w, r, badRequest("invalid_height", "height is not a non-negative integer", err))
			return
		}
		root, err := s.opts.Programs.RootAt(p, h)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out.Root, out.Height = root, &h
	default:
		head, err := s.opts.Programs.Head(p)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out.Root, out.Height = head.Root, &head.Height
	}
	if q.Has("key") {
		key, err := hex.DecodeString(q.Get("key"))
		if err != nil {
			s.writeError(w, r, badRequest("invalid_hex", "key is not hex", err))
			return
		}
		pr, err := s.opts.Programs.Prove(p, out.Root, key)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out.Proof = pr.Siblings[:]
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

// ReceiptSummary is one receipt of GET /programs/{id}/receipts: the
// original's fields (gas_used is the fuel used) plus height, request id,
// fuel and logical timestamp.
type ReceiptSummary struct {
	ProgramID    id.Program `json:"program_id"`
	Height       uint64     `json:"height"`
	StateRootIn  id.Hash    `json:"state_root_in"`
	StateRootOut id.Hash    `json:"state_root_out"`
	WriteDigest  id.Hash    `json:"write_digest"`
	GasUsed      uint64     `json:"gas_used"`
	Fuel         uint64     `json:"fuel"`
	SignerBitmap string     `json:"signer_bitmap"`
	Epoch        uint64     `json:"committee_epoch"`
	ReceiptID    id.Hash    `json:"receipt_id"`
	RequestID    id.Hash    `json:"request_id"`
	TimestampMS  int64      `json:"timestamp"`
}

// ReceiptPage is the response to GET /programs/{id}/receipts.
type ReceiptPage struct {
	Receipts   []ReceiptSummary `json:"receipts"`
	NextCursor *string          `json:"next_cursor"`
}

func summary(a *consensus.AggregatedReceipt) ReceiptSummary {
	r := &a.Receipt
	return ReceiptSummary{
		ProgramID: r.Program, Height: r.Height, StateRootIn: r.StateRootIn, StateRootOut: r.StateRootOut,
		WriteDigest: r.WriteDigest, GasUsed: r.FuelUsed, Fuel: r.FuelUsed, SignerBitmap: hex.EncodeToString(a.Signers),
		Epoch: r.Epoch, ReceiptID: r.ID(), RequestID: r.RequestID, TimestampMS: r.Timestamp,
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
			s.writeError(w, r, badRequest("invalid_cursor", "cursor is not a height", err))
			return
		}
	}
	rs, next, err := s.opts.Programs.Receipts(p, from, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := ReceiptPage{Receipts: make([]ReceiptSummary, len(rs))}
	for i := range rs {
		out.Receipts[i] = summary(&rs[i])
	}
	if next != 0 {
		c := strconv.FormatUint(next, 10)
		out.NextCursor = &c
	}
	writeJSON(w, http.StatusOK, out)
}

// ReceiptDetail is the response to GET /receipts/{id}: every receipt field,
// the signer bitmap and aggregate signature, and the aggregated receipt's
// canonical CBOR (cbor_base64), from which a client verifies it offline
// against the committee's public keys.
type ReceiptDetail struct {
	ReceiptID          id.Hash    `json:"receipt_id"`
	ProgramID          id.Program `json:"program_id"`
	Height             uint64     `json:"height"`
	StateRootIn        id.Hash    `json:"state_root_in"`
	StateRootOut       id.Hash    `json:"state_root_out"`
	InputHash          id.Hash    `json:"input_hash"`
	RequestID          id.Hash    `json:"request_id"`
	Fuel               uint64     `json:"fuel"`
	GasUsed            uint64     `json:"gas_used"`
	WriteDigest        id.Hash    `json:"write_digest"`
	OutputHash         id.Hash    `json:"output_hash"`
	CodeHash           id.Hash    `json:"code_hash"`
	EnvHash            id.Hash    `json:"wasm_env_hash"`
	TimestampMS        int64      `json:"timestamp"`
	Executor           id.Node    `json:"executor"`
	Epoch              uint64     `json:"committee_epoch"`
	SignerBitmap       string     `json:"signer_bitmap"`
	AggregateSignature string     `json:"aggregate_signature"`
	WriteCount         int        `json:"write_count"`
	OutputBase64       *string    `json:"output_base64"`
	CBORBase64         string     `json:"cbor_base64"`
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

func receiptDetail(a *consensus.AggregatedReceipt, writes int, hasOutput bool, output []byte) ReceiptDetail {
	r := &a.Receipt
	d := ReceiptDetail{
		ReceiptID: r.ID(), ProgramID: r.Program, Height: r.Height, StateRootIn: r.StateRootIn,
		StateRootOut: r.StateRootOut, InputHash: r.InputHash, RequestID: r.RequestID, Fuel: r.FuelUsed,
		GasUsed: r.FuelUsed, WriteDigest: r.WriteDigest, OutputHash: r.OutputHash, CodeHash: r.CodeHash,
		EnvHash: r.EnvHash, TimestampMS: r.Timestamp, Executor: r.Executor, Epoch: r.Epoch,
		SignerBitmap: hex.EncodeToString(a.Signers), AggregateSignature: a.Signature.String(),
		WriteCount: writes, CBORBase64: b64(a.Encode()),
	}
	if hasOutput {
		o := b64(output)
		d.OutputBase64 = &o
	}
	return d
}
