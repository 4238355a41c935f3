package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/onvm-network/onvm/internal/id"
)

// Member is one committee member.
type Member struct {
	Node         string `json:"node"`
	Weight       uint64 `json:"weight"`
	BLSPublicKey string `json:"bls_public_key"`
}

// Committee is a program's committee (GET /programs/{id}/committee).
type Committee struct {
	ProgramID          string   `json:"program_id"`
	Epoch              uint64   `json:"epoch"`
	AggregatePublicKey string   `json:"aggregate_public_key,omitempty"`
	Members            []Member `json:"members"`
	Threshold          uint64   `json:"threshold"`
}

// Manifest is a program's signed manifest; CBORBase64 is its canonical
// encoding, which the signature covers.
type Manifest struct {
	ManifestID       string    `json:"manifest_id"`
	ProgramID        string    `json:"program_id"`
	Version          uint64    `json:"version"`
	Deployer         string    `json:"deployer"`
	Entrypoints      []string  `json:"entrypoints"`
	WasmEnvHash      string    `json:"wasm_env_hash"`
	CodeBlob         string    `json:"code_blob"`
	CodeSize         int64     `json:"code_size"`
	InstrumentedBlob string    `json:"instrumented_blob"`
	SaltBase64       string    `json:"salt_base64"`
	BlobRefs         []string  `json:"blob_refs"`
	InitialRoot      string    `json:"initial_state_root"`
	Committee        Committee `json:"committee"`
	TimestampMS      int64     `json:"timestamp_ms"`
	Signature        string    `json:"signature"`
	CBORBase64       string    `json:"cbor_base64"`
}

// Program describes a deployed program (GET /programs/{id}).
type Program struct {
	ID         string   `json:"id"`
	Publisher  string   `json:"publisher"`
	Size       int64    `json:"size"`
	Entrypoint string   `json:"entrypoint"`
	BlobRefs   []string `json:"blob_refs"`
	Manifest   Manifest `json:"manifest"`
	Created    bool     `json:"-"` // set by Deploy: the node had no such program before
}

// DeployRequest describes a deployment. Exactly one of Wasm and CodeBlob
// is set.
type DeployRequest struct {
	Wasm       []byte
	CodeBlob   string // a blob already uploaded with UploadBlob
	Entrypoint string
	BlobRefs   []string
	Salt       []byte // nil: the node picks a random salt
}

// Deploy deploys a program with the JSON form of POST /programs. The
// program id is BLAKE3(wasm ‖ salt); deploying the same module with the
// same salt again returns the existing program with Created false.
func (c *Client) Deploy(ctx context.Context, d DeployRequest) (*Program, error) {
	body := map[string]any{"entrypoint": d.Entrypoint, "blob_refs": nonNilStrings(d.BlobRefs)}
	if d.CodeBlob != "" {
		body["code_blob"] = d.CodeBlob
	} else {
		body["wasm_base64"] = base64.StdEncoding.EncodeToString(d.Wasm)
	}
	if d.Salt != nil {
		body["salt_base64"] = base64.StdEncoding.EncodeToString(d.Salt)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return c.deploy(ctx, "/programs", "application/json", bytes.NewReader(b), int64(len(b)))
}

// DeployStream deploys the module read from r (size bytes, -1 if unknown)
// as the raw body of POST /programs, without base64.
func (c *Client) DeployStream(ctx context.Context, r io.Reader, size int64, d DeployRequest) (*Program, error) {
	q := url.Values{"entrypoint": {d.Entrypoint}}
	if d.Salt != nil {
		q.Set("salt", base64.StdEncoding.EncodeToString(d.Salt))
	}
	if len(d.BlobRefs) > 0 {
		q.Set("blob_refs", strings.Join(d.BlobRefs, ","))
	}
	return c.deploy(ctx, "/programs?"+q.Encode(), "application/wasm", r, size)
}

func (c *Client) deploy(ctx context.Context, path, ctype string, r io.Reader, size int64) (*Program, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, io.NopCloser(r))
	if err != nil {
		return nil, err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", ctype)
	resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var p Program
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		return nil, fmt.Errorf("POST /programs: decode response: %w", err)
	}
	p.Created = resp.StatusCode == http.StatusCreated
	return &p, nil
}

// programPath normalises a program id for a path.
func programPath(p string) (string, error) {
	pid, err := id.ParseProgram(p)
	if err != nil {
		return "", err
	}
	return "/programs/" + pid.String(), nil
}

// Program returns a deployed program.
func (c *Client) Program(ctx context.Context, program string) (*Program, error) {
	path, err := programPath(program)
	if err != nil {
		return nil, err
	}
	var p Program
	return &p, c.getJSON(ctx, path, &p)
}

// CatalogEntry is one program of the catalog.
type CatalogEntry struct {
	ProgramID    string  `json:"program_id"`
	Version      uint64  `json:"version"`
	InitialRoot  string  `json:"initial_state_root"`
	DAGParent    *string `json:"dag_parent"`
	CodeManifest string  `json:"code_manifest"`
	CodeBlob     string  `json:"code_blob"`
	Entrypoint   string  `json:"entrypoint"`
	Deployer     string  `json:"deployer"`
	TimestampMS  int64   `json:"timestamp_ms"`
}

// CatalogPage is one page of GET /program-catalog.
type CatalogPage struct {
	Programs   []CatalogEntry `json:"programs"`
	NextCursor *string        `json:"next_cursor"`
}

// Catalog returns a page of deployed programs in id order, after cursor
// (a previous page's NextCursor; "" for the first). limit 0 means the
// node's default.
func (c *Client) Catalog(ctx context.Context, cursor string, limit int) (*CatalogPage, error) {
	var p CatalogPage
	return &p, c.getJSON(ctx, "/program-catalog"+pageQuery(cursor, limit), &p)
}

func pageQuery(cursor string, limit int) string {
	q := url.Values{}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// Committee returns a program's committee.
func (c *Client) Committee(ctx context.Context, program string) (*Committee, error) {
	path, err := programPath(program)
	if err != nil {
		return nil, err
	}
	var cm Committee
	return &cm, c.getJSON(ctx, path+"/committee", &cm)
}

// StateRoot is a program's state root, with a key's value and proof.
type StateRoot struct {
	ProgramID string   `json:"program_id"`
	Root      string   `json:"root"`
	Height    *uint64  `json:"height"`
	Proof     []string `json:"proof"`
	ValueHex  *string  `json:"value_hex"`
	Present   *bool    `json:"present,omitempty"`
	KeyHex    *string  `json:"key_hex,omitempty"`
}

// StateQuery selects a historical root: Height (after that transition) or
// Root; both unset means the current root.
type StateQuery struct {
	Height *uint64
	Root   string
}

// StateRoot returns a program's state root and, when key is not nil, the
// key's value and its membership or non-membership proof under that root.
func (c *Client) StateRoot(ctx context.Context, program string, key []byte, at StateQuery) (*StateRoot, error) {
	path, err := programPath(program)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if key != nil {
		q.Set("key", hex.EncodeToString(key))
	}
	if at.Height != nil {
		q.Set("height", strconv.FormatUint(*at.Height, 10))
	}
	if at.Root != "" {
		q.Set("root", at.Root)
	}
	path += "/state-root"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var sr StateRoot
	return &sr, c.getJSON(ctx, path, &sr)
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ExecuteRequest is one execution. RequestID makes it idempotent: the
// same id for the same program returns the first execution's result.
type ExecuteRequest struct {
	ProgramID string
	Input     []byte
	RequestID string
	FuelLimit uint64 // 0: the node's default
	TimeoutMS int64  // 0: the node's default
}

// Log is one guest log entry.
type Log struct {
	Source  string `json:"source"`
	Level   uint8  `json:"level"`
	Message string `json:"message"`
}

// ExecuteResult is a successful execution: a committed state transition.
type ExecuteResult struct {
	ReturnBase64 string `json:"return_base64"`
	Fuel         uint64 `json:"fuel"`
	ReceiptID    string `json:"receipt_id"`
	Height       uint64 `json:"height"`
	StateRoot    string `json:"state_root"`
	RequestID    string `json:"request_id"`
	Replayed     bool   `json:"replayed"`
	Logs         []Log  `json:"logs"`
}

// Output decodes ReturnBase64.
func (r *ExecuteResult) Output() ([]byte, error) {
	return base64.StdEncoding.DecodeString(r.ReturnBase64)
}

// ExecError is a failed execution: the node's error (code trap,
// out_of_fuel, timeout, …) with the fuel the guest used and its logs.
// errors.As(err, **Error) also matches it.
type ExecError struct {
	Err      *Error
	FuelUsed *uint64
	Logs     []Log
}

func (e *ExecError) Error() string { return e.Err.Error() }

func (e *ExecError) Unwrap() error { return e.Err }

// Execute runs an execution (POST /execute).
func (c *Client) Execute(ctx context.Context, x ExecuteRequest) (*ExecuteResult, error) {
	pid, err := id.ParseProgram(x.ProgramID)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(map[string]any{
		"program_id": pid.String(), "input_base64": base64.StdEncoding.EncodeToString(x.Input),
		"request_id": x.RequestID, "fuel_limit": x.FuelLimit, "timeout_ms": x.TimeoutMS,
	})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/execute", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", c.ua)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("POST /execute: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("POST /execute: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, execError(resp, body)
	}
	var res ExecuteResult
	if err := json.Unmarshal(body, &res); err != nil {
		return nil, fmt.Errorf("POST /execute: decode response: %w", err)
	}
	return &res, nil
}

func execError(resp *http.Response, body []byte) error {
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var ce *Error
	if !errors.As(decodeError(resp), &ce) {
		return decodeError(resp)
	}
	var extra struct {
		Error struct {
			FuelUsed *uint64 `json:"fuel_used"`
			Logs     []Log   `json:"logs"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &extra)
	return &ExecError{Err: ce, FuelUsed: extra.Error.FuelUsed, Logs: extra.Error.Logs}
}

// ReceiptSummary is one receipt of a program's receipt list.
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

// ReceiptPage is one page of GET /programs/{id}/receipts.
type ReceiptPage struct {
	Receipts   []ReceiptSummary `json:"receipts"`
	NextCursor *string          `json:"next_cursor"`
}

// Receipts returns a page of a program's receipts in height order from
// cursor (a previous page's NextCursor; "" for height 1).
func (c *Client) Receipts(ctx context.Context, program, cursor string, limit int) (*ReceiptPage, error) {
	path, err := programPath(program)
	if err != nil {
		return nil, err
	}
	var p ReceiptPage
	return &p, c.getJSON(ctx, path+"/receipts"+pageQuery(cursor, limit), &p)
}

// Receipt is a full aggregated receipt (GET /receipts/{id}). CBORBase64 is
// its canonical encoding: verify it against the committee's keys.
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
	SignerBitmap       string  `json:"signer_bitmap"`
	AggregateSignature string  `json:"aggregate_signature"`
	WriteCount         int     `json:"write_count"`
	OutputBase64       *string `json:"output_base64"`
	CBORBase64         string  `json:"cbor_base64"`
}

// Receipt returns a receipt by id (64 hex).
func (c *Client) Receipt(ctx context.Context, receiptID string) (*Receipt, error) {
	rid, err := id.ParseHash(receiptID)
	if err != nil {
		return nil, err
	}
	var r Receipt
	return &r, c.getJSON(ctx, "/receipts/"+rid.String(), &r)
}
