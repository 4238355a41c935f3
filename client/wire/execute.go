package wire

import "encoding/base64"

// ExecuteRequest is the body of POST /execute: the original's fields, and
// optionally a request id (idempotency), a fuel limit and a timeout (zero:
// the node's defaults).
type ExecuteRequest struct {
	ProgramID   string `json:"program_id"`
	InputBase64 string `json:"input_base64"`
	RequestID   string `json:"request_id,omitempty"`
	FuelLimit   uint64 `json:"fuel_limit,omitempty"`
	TimeoutMS   int64  `json:"timeout_ms,omitempty"`
}

// ExecuteResult is the answer to POST /execute: a committed state
// transition. ReturnBase64 and Fuel are the original's fields; the rest
// identify the transition.
type ExecuteResult struct {
	ReturnBase64 string `json:"return_base64"`
	Fuel         uint64 `json:"fuel"`
	ReceiptID    string `json:"receipt_id"`
	Height       uint64 `json:"height"`
	StateRoot    string `json:"state_root"`
	RequestID    string `json:"request_id"`
	Replayed     bool   `json:"replayed"` // the request id named an earlier execution
	Logs         []Log  `json:"logs"`
}

// Log is one entry a guest logged during an execution.
type Log struct {
	Source  string `json:"source"`
	Level   uint8  `json:"level"`
	Message string `json:"message"`
}

// Output decodes ReturnBase64.
func (r *ExecuteResult) Output() ([]byte, error) {
	return base64.StdEncoding.DecodeString(r.ReturnBase64)
}
