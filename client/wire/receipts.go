package wire

// ReceiptSummary is one receipt of GET /programs/{id}/receipts: the
// original's fields (gas_used is the fuel used) plus height, request id,
// fuel and logical timestamp.
type ReceiptSummary struct {
	ProgramID    string `json:"program_id"`
	Height       uint64 `json:"height"`
	StateRootIn  string `json:"state_root_in"`
	StateRootOut string `json:"state_root_out"`
	WriteDigest  string `json:"write_digest"`
	GasUsed      uint64 `json:"gas_used"`
	Fuel         uint64 `json:"fuel"`
	SignerBitmap string `json:"signer_bitmap"`
	Epoch        uint64 `json:"committee_epoch"`
	ReceiptID    string `json:"receipt_id"`
	RequestID    string `json:"request_id"`
	TimestampMS  int64  `json:"timestamp"`
}

// ReceiptPage is the answer to GET /programs/{id}/receipts, in height
// order; NextCursor is the height to continue from.
type ReceiptPage struct {
	Receipts   []ReceiptSummary `json:"receipts"`
	NextCursor *string          `json:"next_cursor"`
}

// Receipt is the answer to GET /receipts/{id}: every receipt field, where
// it sits in the batch its committee certified, the certificate's signer
// bitmap and aggregate signature, and the certified receipt's canonical
// CBOR (cbor_base64), from which a client verifies it offline against the
// committee's public keys (client.VerifyReceipt).
type Receipt struct {
	ReceiptID          string  `json:"receipt_id"`
	ProgramID          string  `json:"program_id"`
	Height             uint64  `json:"height"`
	StateRootIn        string  `json:"state_root_in"`
	StateRootOut       string  `json:"state_root_out"`
	InputHash          string  `json:"input_hash"`
	RequestID          string  `json:"request_id"`
	Fuel               uint64  `json:"fuel"`
	GasUsed            uint64  `json:"gas_used"`
	WriteDigest        string  `json:"write_digest"`
	OutputHash         string  `json:"output_hash"`
	CodeHash           string  `json:"code_hash"`
	WasmEnvHash        string  `json:"wasm_env_hash"`
	TimestampMS        int64   `json:"timestamp"`
	Executor           string  `json:"executor"`
	Epoch              uint64  `json:"committee_epoch"`
	Batch              Batch   `json:"batch"`
	SignerBitmap       string  `json:"signer_bitmap"`       // hex, bit i for member i
	AggregateSignature string  `json:"aggregate_signature"` // hex, 48 bytes: of the batch's precommit ballot
	WriteCount         int     `json:"write_count"`
	OutputBase64       *string `json:"output_base64"`
	CBORBase64         string  `json:"cbor_base64"`
}

// Batch is where a receipt sits in the batch its committee decided: the
// agreement height and round of the certified precommit, the batch root it
// certifies, the receipt's position among the batch's Count receipts and
// its path to the root (sibling hashes, bottom up).
type Batch struct {
	Height uint64   `json:"height"`
	Round  uint32   `json:"round"`
	Root   string   `json:"root"`
	Index  uint32   `json:"index"`
	Count  uint32   `json:"count"`
	Path   []string `json:"path"`
}
