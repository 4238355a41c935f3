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
	"time"

	"github.com/onvm-network/onvm/client/wire"
	"github.com/onvm-network/onvm/internal/id"
)

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
	body := wire.DeployRequest{Entrypoint: d.Entrypoint, BlobRefs: nonNilStrings(d.BlobRefs)}
	if d.CodeBlob != "" {
		body.CodeBlob = d.CodeBlob
	} else {
		body.WasmBase64 = base64.StdEncoding.EncodeToString(d.Wasm)
	}
	if d.Salt != nil {
		s := base64.StdEncoding.EncodeToString(d.Salt)
		body.SaltBase64 = &s
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

// compilingRetryFor bounds how long Execute retries an execution the node
// answers 503 compiling (the program is still compiling there).
const compilingRetryFor = 5 * time.Minute

// Execute runs an execution (POST /execute). When the node answers 503
// compiling — nothing ran, the program is still compiling there — it tries
// again after the answer's Retry-After, for up to five minutes or until
// ctx ends.
func (c *Client) Execute(ctx context.Context, x ExecuteRequest) (*ExecuteResult, error) {
	pid, err := id.ParseProgram(x.ProgramID)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(wire.ExecuteRequest{
		ProgramID: pid.String(), InputBase64: base64.StdEncoding.EncodeToString(x.Input),
		RequestID: x.RequestID, FuelLimit: x.FuelLimit, TimeoutMS: x.TimeoutMS,
	})
	if err != nil {
		return nil, err
	}
	giveUp := time.Now().Add(compilingRetryFor)
	for {
		res, wait, err := c.execute(ctx, b)
		var ce *Error
		if !errors.As(err, &ce) || ce.Status != http.StatusServiceUnavailable || ce.Code != wire.CodeCompiling || time.Now().Add(wait).After(giveUp) {
			return res, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// execute is one attempt of Execute; wait is the answer's Retry-After.
func (c *Client) execute(ctx context.Context, b []byte) (res *ExecuteResult, wait time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/execute", bytes.NewReader(b))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", c.ua)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("POST /execute: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, 0, fmt.Errorf("POST /execute: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, retryAfter(resp), execError(resp, body)
	}
	res = new(ExecuteResult)
	if err := json.Unmarshal(body, res); err != nil {
		return nil, 0, fmt.Errorf("POST /execute: decode response: %w", err)
	}
	return res, 0, nil
}

// retryAfter is resp's Retry-After in seconds, between 1 and 10 s.
func retryAfter(resp *http.Response) time.Duration {
	n, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil {
		n = 1
	}
	return time.Duration(min(max(n, 1), 10)) * time.Second
}

func execError(resp *http.Response, body []byte) error {
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var ce *Error
	if !errors.As(decodeError(resp), &ce) {
		return decodeError(resp)
	}
	var extra wire.ErrorBody
	_ = json.Unmarshal(body, &extra)
	return &ExecError{Err: ce, FuelUsed: extra.Error.FuelUsed, Logs: extra.Error.Logs}
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

// Receipt returns a receipt by id (64 hex).
func (c *Client) Receipt(ctx context.Context, receiptID string) (*Receipt, error) {
	rid, err := id.ParseHash(receiptID)
	if err != nil {
		return nil, err
	}
	var r Receipt
	return &r, c.getJSON(ctx, "/receipts/"+rid.String(), &r)
}
