package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/dag/op"
	"github.com/onvm-network/onvm/internal/id"
)

// DAG is what the /dag routes need from internal/dag (its *DAG).
type DAG interface {
	Self() id.Node
	Len() uint64
	Heads() []id.Hash
	Get(h id.Hash) (*dag.Vertex, error)
	VersionVector() dag.VersionVector
	Flagged() []dag.Flag
	Equivocations(limit int) ([]dag.Equivocation, error)
	Stats() dag.Stats
}

func (s *Server) dagRoutes(r *router) {
	if s.opts.DAG == nil {
		return
	}
	r.handle(http.MethodGet, "/dag/heads", s.dagHeads)
	r.handle(http.MethodGet, "/dag/vertices/{id}", s.dagVertex)
	r.handle(http.MethodGet, "/dag/authors", s.dagAuthors)
	r.handle(http.MethodGet, "/dag/equivocations", s.dagEquivocations)
}

// DAGHeads is the response to GET /dag/heads.
type DAGHeads struct {
	Self     id.Node          `json:"self"`
	Vertices uint64           `json:"vertices"` // accepted so far
	Heads    []id.Hash        `json:"heads"`
	Pending  int              `json:"pending"` // waiting for parents
	Rejected map[string]int64 `json:"rejected"`
	Refused  map[string]int64 `json:"refused_ops"` // operations of accepted vertices refused when applied, by kind
}

func (s *Server) dagHeads(w http.ResponseWriter, _ *http.Request) {
	d := s.opts.DAG
	st := d.Stats()
	out := DAGHeads{Self: d.Self(), Vertices: d.Len(), Heads: d.Heads(), Pending: st.Pending, Rejected: map[string]int64{}}
	for r, n := range st.Rejected {
		out.Rejected[string(r)] = int64(n)
	}
	out.Refused = make(map[string]int64, len(st.RefusedOps))
	for k, n := range st.RefusedOps {
		out.Refused[k] = int64(n)
	}
	writeJSON(w, http.StatusOK, out)
}

// VertexInfo is the response to GET /dag/vertices/{id}.
type VertexInfo struct {
	ID        id.Hash   `json:"id"`
	Author    id.Node   `json:"author"`
	Seq       uint64    `json:"seq"`
	Parents   []id.Hash `json:"parents"`
	Timestamp time.Time `json:"timestamp"` // the author's claim
	Signature string    `json:"signature"` // base64
	Ops       []OpInfo  `json:"ops"`
}

// OpInfo is one operation of a vertex: its kind and its decoded body.
type OpInfo struct {
	Kind uint16 `json:"kind"`
	Name string `json:"name"`
	Size int    `json:"size"` // body bytes
	Body any    `json:"body,omitempty"`
}

func (s *Server) dagVertex(w http.ResponseWriter, r *http.Request) {
	h, err := id.ParseHash(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := s.opts.DAG.Get(h)
	if errors.Is(err, dag.ErrNotFound) {
		s.writeError(w, r, &requestError{status: http.StatusNotFound, code: "not_found", msg: "vertex not found"})
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := VertexInfo{
		ID: v.ID(), Author: v.Author, Seq: v.Seq, Parents: v.Parents, Timestamp: time.UnixMilli(v.Timestamp).UTC(),
		Signature: b64(v.Signature), Ops: make([]OpInfo, len(v.Ops)),
	}
	if out.Parents == nil {
		out.Parents = []id.Hash{}
	}
	for i, o := range v.Ops {
		out.Ops[i] = opInfo(o)
	}
	writeJSON(w, http.StatusOK, out)
}

// opInfo decodes an operation for display.
func opInfo(o dag.Op) OpInfo {
	info := OpInfo{Kind: uint16(o.Kind), Size: len(o.Body)}
	switch o.Kind {
	case op.KindBlobPublished:
		info.Name = "blob_published"
		if b, err := op.DecodeBlobPublished(o); err == nil {
			info.Body = b
		}
	case op.KindProgramDeployed:
		info.Name = "program_deployed"
		if m, err := op.DecodeProgramDeployed(o); err == nil {
			info.Body = map[string]any{
				"program_id": m.Body.Program, "manifest_id": m.ID(), "deployer": m.Body.Deployer,
				"code_blob": m.Body.CodeBlob, "instrumented": m.Body.Instrumented, "committee": m.Body.Committee,
			}
		}
	case op.KindTransition:
		info.Name = "transition"
		if t, err := op.DecodeTransition(o); err == nil {
			rc := &t.Receipt.Receipt
			info.Body = map[string]any{
				"program_id": rc.Program, "height": rc.Height, "receipt_id": rc.ID(), "executor": rc.Executor,
				"state_root_in": rc.StateRootIn, "state_root_out": rc.StateRootOut, "writes": len(t.Writes),
			}
		}
	case op.KindJobRecord:
		info.Name = "job_record"
		if j, err := op.DecodeJobRecord(o); err == nil {
			info.Body = j
		}
	case op.KindValidatorRegistered:
		info.Name = "validator_registered"
		if v, err := op.DecodeValidatorRegistered(o); err == nil {
			info.Body = v
		}
	}
	return info
}

// DAGAuthors is the response to GET /dag/authors: the version vector, and
// the authors caught equivocating.
type DAGAuthors struct {
	Authors []AuthorInfo `json:"authors"`
}

// AuthorInfo is one author of the DAG.
type AuthorInfo struct {
	Author      id.Node    `json:"author"`
	Seq         uint64     `json:"seq"` // highest accepted sequence
	Equivocated bool       `json:"equivocated"`
	FlaggedAt   *time.Time `json:"flagged_at,omitempty"`
}

func (s *Server) dagAuthors(w http.ResponseWriter, _ *http.Request) {
	flags := map[id.Node]dag.Flag{}
	for _, f := range s.opts.DAG.Flagged() {
		flags[f.Author] = f
	}
	out := DAGAuthors{Authors: []AuthorInfo{}}
	for _, e := range s.opts.DAG.VersionVector().Entries() {
		a := AuthorInfo{Author: e.Author, Seq: e.Seq}
		if f, ok := flags[e.Author]; ok {
			a.Equivocated, a.FlaggedAt = true, &f.DetectedAt
		}
		out.Authors = append(out.Authors, a)
	}
	writeJSON(w, http.StatusOK, out)
}

// DAGEquivocations is the response to GET /dag/equivocations.
type DAGEquivocations struct {
	Flagged       []dag.Flag         `json:"flagged"`
	Equivocations []dag.Equivocation `json:"equivocations"`
}

func (s *Server) dagEquivocations(w http.ResponseWriter, r *http.Request) {
	limit, err := pageLimit(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	es, err := s.opts.DAG.Equivocations(limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := DAGEquivocations{Flagged: s.opts.DAG.Flagged(), Equivocations: es}
	if out.Equivocations == nil {
		out.Equivocations = []dag.Equivocation{}
	}
	writeJSON(w, http.StatusOK, out)
}
