package api

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/onvm-network/onvm/client/wire"
	"github.com/onvm-network/onvm/internal/chain"
	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/program"
	"github.com/onvm-network/onvm/internal/state"
	"github.com/onvm-network/onvm/internal/wasm"
)

// Programs is what the program, execution and receipt routes need from
// internal/chain (its *Engine).
type Programs interface {
	Deploy(ctx context.Context, req chain.DeployRequest) (*program.Manifest, bool, error)
	Manifest(p id.Program) (*program.Manifest, error)
	Programs(after *id.Program, limit int) ([]*program.Manifest, bool, error)
	Head(p id.Program) (chain.Head, error)
	RootAt(p id.Program, height uint64) (id.Hash, error)
	Prove(p id.Program, root id.Hash, key []byte) (*state.Proof, error)
	Execute(ctx context.Context, req chain.Request) (*chain.Outcome, error)
	Receipts(p id.Program, from uint64, limit int) ([]consensus.CertifiedReceipt, uint64, error)
	Receipt(rid id.Hash) (*chain.Record, error)
	Limits() chain.Limits
}

// Page sizes of the list routes.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

func (s *Server) programRoutes(r *router) {
	if s.opts.Programs == nil {
		return
	}
	r.handle(http.MethodPost, "/programs", s.deployProgram)
	r.handle(http.MethodGet, "/programs/{id}", s.getProgram)
	r.handle(http.MethodGet, "/program-catalog", s.programCatalog)
	r.handle(http.MethodGet, "/programs/{id}/committee", s.programCommittee)
	r.handle(http.MethodGet, "/programs/{id}/state-root", s.stateRoot)
	r.handle(http.MethodPost, "/execute", s.execute)
	r.handle(http.MethodGet, "/programs/{id}/receipts", s.programReceipts)
	r.handle(http.MethodGet, "/receipts/{id}", s.getReceipt)
}

// maxDeployJSON bounds a JSON deploy body: the largest module in base64.
const maxDeployJSON = wasm.MaxCodeSize/3*4 + 64<<10

// deployProgram deploys a module: a JSON body (wire.DeployRequest), or the raw
// module as the body with ?entrypoint=&salt=&blob_refs= in the query. 201
// when new, 200 when the same module and salt were deployed before.
func (s *Server) deployProgram(w http.ResponseWriter, r *http.Request) {
	release, err := s.acquire(s.deploys, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer release()
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(compileMargin))
	req, err := s.parseDeploy(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	m, created, err := s.opts.Programs.Deploy(r.Context(), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	w.Header().Set("Location", "/programs/"+m.Body.Program.String())
	writeJSON(w, code, s.programInfo(m))
}

func (s *Server) parseDeploy(w http.ResponseWriter, r *http.Request) (chain.DeployRequest, error) {
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/json") || ct == "" && r.URL.RawQuery == "" {
		return parseDeployJSON(w, r)
	}
	q := r.URL.Query()
	req := chain.DeployRequest{Entrypoint: q.Get("entrypoint")}
	if v, ok := q["salt"]; ok {
		salt, err := decodeBase64(v[0])
		if err != nil {
			return req, badRequest("invalid_base64", "salt is not base64", err)
		}
		req.Salt = salt
	}
	for _, v := range q["blob_refs"] {
		for _, ref := range strings.Split(v, ",") {
			b, err := id.ParseBlob(ref)
			if err != nil {
				return req, err
			}
			req.BlobRefs = append(req.BlobRefs, b)
		}
	}
	if r.ContentLength > wasm.MaxCodeSize {
		return req, tooLarge(wire.CodeModuleTooLarge, "the module is larger than the node accepts", nil)
	}
	code, err := io.ReadAll(http.MaxBytesReader(w, r.Body, wasm.MaxCodeSize))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return req, tooLarge(wire.CodeModuleTooLarge, "the module is larger than the node accepts", nil)
		}
		return req, errUploadAborted(err)
	}
	req.Code = code
	return req, nil
}

func parseDeployJSON(w http.ResponseWriter, r *http.Request) (chain.DeployRequest, error) {
	var body wire.DeployRequest
	if err := decodeJSONBody(w, r, maxDeployJSON, &body); err != nil {
		return chain.DeployRequest{}, err
	}
	req := chain.DeployRequest{Entrypoint: body.Entrypoint}
	switch {
	case body.WasmBase64 != "" && body.CodeBlob != "":
		return req, badRequest(wire.CodeInvalidRequest, "give wasm_base64 or code_blob, not both", nil)
	case body.CodeBlob != "":
		b, err := id.ParseBlob(body.CodeBlob)
		if err != nil {
			return req, err
		}
		req.CodeBlob = &b
	default:
		code, err := decodeBase64(body.WasmBase64)
		if err != nil {
			return req, badRequest("invalid_base64", "wasm_base64 is not base64", err)
		}
		req.Code = code
	}
	if body.SaltBase64 != nil {
		salt, err := decodeBase64(*body.SaltBase64)
		if err != nil {
			return req, badRequest("invalid_base64", "salt_base64 is not base64", err)
		}
		req.Salt = salt
	}
	for _, ref := range body.BlobRefs {
		b, err := id.ParseBlob(ref)
		if err != nil {
			return req, err
		}
		req.BlobRefs = append(req.BlobRefs, b)
	}
	return req, nil
}

func tooLarge(code, msg string, err error) error {
	return &requestError{status: http.StatusRequestEntityTooLarge, code: code, msg: msg, err: err}
}

// programInfo is the answer to GET /programs/{id} and POST /programs: the
// original's fields and the signed manifest, whose cbor_base64 is what the
// signature and the manifest id cover.
func (s *Server) programInfo(m *program.Manifest) wire.Program {
	b := &m.Body
	refs := texts(b.BlobRefs)
	if refs == nil {
		refs = []string{}
	}
	return wire.Program{
		ID: b.Program.String(), Publisher: b.Deployer.String(), Size: b.CodeSize, Entrypoint: b.Entrypoints[0], BlobRefs: refs,
		Manifest: wire.Manifest{
			ManifestID: m.ID().String(), ProgramID: b.Program.String(), Version: b.Version, Deployer: b.Deployer.String(),
			Entrypoints: b.Entrypoints, WasmEnvHash: b.EnvHash.String(), CodeBlob: b.CodeBlob.String(), CodeSize: b.CodeSize,
			InstrumentedBlob: b.Instrumented.String(), SaltBase64: base64.StdEncoding.EncodeToString(b.Salt),
			BlobRefs: refs, InitialRoot: b.InitialRoot.String(), Committee: committee(&b.Committee, ""),
			TimestampMS: b.Timestamp, Signature: hex.EncodeToString(m.Signature),
			CBORBase64: base64.StdEncoding.EncodeToString(m.Encode()),
		},
	}
}

// committee is c as the API shows it; agg is its aggregate key, "" in a
// manifest.
func committee(c *consensus.Committee, agg string) wire.Committee {
	out := wire.Committee{ProgramID: c.Program.String(), Epoch: c.Epoch, AggregatePublicKey: agg, Threshold: c.Threshold}
	if c.Members != nil {
		out.Members = make([]wire.Member, len(c.Members))
	}
	for i, m := range c.Members {
		out.Members[i] = wire.Member{Node: m.Node.String(), Weight: m.Weight, BLSPublicKey: m.BLSKey.String()}
	}
	return out
}

func (s *Server) getProgram(w http.ResponseWriter, r *http.Request) {
	m, ok := s.manifestOf(w, r)
	if ok {
		writeJSON(w, http.StatusOK, s.programInfo(m))
	}
}

// manifestOf parses the {id} path value and loads its manifest, writing
// the error response when it fails.
func (s *Server) manifestOf(w http.ResponseWriter, r *http.Request) (*program.Manifest, bool) {
	p, err := id.ParseProgram(r.PathValue("id"))
	if err == nil {
		var m *program.Manifest
		if m, err = s.opts.Programs.Manifest(p); err == nil {
			return m, true
		}
	}
	s.writeError(w, r, err)
	return nil, false
}

func (s *Server) programCatalog(w http.ResponseWriter, r *http.Request) {
	limit, err := pageLimit(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var after *id.Program
	if c := r.URL.Query().Get("cursor"); c != "" {
		p, err := id.ParseProgram(c)
		if err != nil {
			s.writeError(w, r, badRequest(wire.CodeInvalidCursor, "cursor is not a program id", err))
			return
		}
		after = &p
	}
	ms, more, err := s.opts.Programs.Programs(after, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := wire.CatalogPage{Programs: make([]wire.CatalogEntry, len(ms))}
	for i, m := range ms {
		b := &m.Body
		out.Programs[i] = wire.CatalogEntry{
			ProgramID: b.Program.String(), Version: b.Version, InitialRoot: b.InitialRoot.String(),
			CodeManifest: m.ID().String(), CodeBlob: b.CodeBlob.String(), Entrypoint: b.Entrypoints[0],
			Deployer: b.Deployer.String(), TimestampMS: b.Timestamp,
		}
	}
	if more {
		c := ms[len(ms)-1].Body.Program.String()
		out.NextCursor = &c
	}
	writeJSON(w, http.StatusOK, out)
}

// pageLimit parses ?limit= (default 100, at most 1000).
func pageLimit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return defaultPageSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPageSize {
		return 0, badRequest(wire.CodeInvalidLimit, "limit must be an integer from 1 to "+strconv.Itoa(maxPageSize), nil)
	}
	return n, nil
}

func (s *Server) programCommittee(w http.ResponseWriter, r *http.Request) {
	m, ok := s.manifestOf(w, r)
	if !ok {
		return
	}
	c := &m.Body.Committee
	agg, err := chain.AggregatePublicKey(c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, committee(c, agg.String()))
}
