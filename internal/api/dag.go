package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/onvm-network/onvm/client/wire"
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

func (s *Server) dagHeads(w http.ResponseWriter, _ *http.Request) {
	d := s.opts.DAG
	st := d.Stats()
	out := wire.DAGHeads{Self: d.Self().String(), Vertices: d.Len(), Heads: texts(d.Heads()), Pending: st.Pending,
		Rejected: map[string]int64{}}
	for r, n := range st.Rejected {
		out.Rejected[string(r)] = int64(n)
	}
	out.Refused = make(map[string]int64, len(st.RefusedOps))
	for k, n := range st.RefusedOps {
		out.Refused[k] = int64(n)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) dagVertex(w http.ResponseWriter, r *http.Request) {
	h, err := id.ParseHash(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := s.opts.DAG.Get(h)
	if errors.Is(err, dag.ErrNotFound) {
		s.writeError(w, r, &requestError{status: http.StatusNotFound, code: wire.CodeNotFound, msg: "vertex not found"})
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := wire.Vertex{
		ID: v.ID().String(), Author: v.Author.String(), Seq: v.Seq, Parents: texts(v.Parents),
		Timestamp: time.UnixMilli(v.Timestamp).UTC(), Signature: b64(v.Signature), Ops: make([]wire.VertexOp, len(v.Ops)),
	}
	if out.Parents == nil {
		out.Parents = []string{}
	}
	for i, o := range v.Ops {
		out.Ops[i] = opInfo(o)
	}
	writeJSON(w, http.StatusOK, out)
}

// opInfo decodes an operation for display.
func opInfo(o dag.Op) wire.VertexOp {
	info := wire.VertexOp{Kind: uint16(o.Kind), Size: len(o.Body)}
	var body any
	switch o.Kind {
	case op.KindBlobPublished:
		info.Name = "blob_published"
		if b, err := op.DecodeBlobPublished(o); err == nil {
			body = b
		}
	case op.KindProgramDeployed:
		info.Name = "program_deployed"
		if m, err := op.DecodeProgramDeployed(o); err == nil {
			body = map[string]any{
				"program_id": m.Body.Program, "manifest_id": m.ID(), "deployer": m.Body.Deployer,
				"code_blob": m.Body.CodeBlob, "instrumented": m.Body.Instrumented, "committee": m.Body.Committee,
			}
		}
	case op.KindTransition:
		info.Name = "transition"
		if t, err := op.DecodeTransition(o); err == nil {
			rc := &t.Receipt.Receipt
			body = map[string]any{
				"program_id": rc.Program, "height": rc.Height, "receipt_id": rc.ID(), "executor": rc.Executor,
				"state_root_in": rc.StateRootIn, "state_root_out": rc.StateRootOut, "writes": len(t.Writes),
			}
		}
	case op.KindJobRecord:
		info.Name = "job_record"
		if j, err := op.DecodeJobRecord(o); err == nil {
			body = j
		}
	case op.KindValidatorRegistered:
		info.Name = "validator_registered"
		if v, err := op.DecodeValidatorRegistered(o); err == nil {
			body = v
		}
	}
	if body != nil {
		// Bodies are the node's own decoded values: they always marshal.
		info.Body, _ = json.Marshal(body)
	}
	return info
}

func (s *Server) dagAuthors(w http.ResponseWriter, _ *http.Request) {
	flags := map[id.Node]dag.Flag{}
	for _, f := range s.opts.DAG.Flagged() {
		flags[f.Author] = f
	}
	out := wire.DAGAuthors{Authors: []wire.DAGAuthor{}}
	for _, e := range s.opts.DAG.VersionVector().Entries() {
		a := wire.DAGAuthor{Author: e.Author.String(), Seq: e.Seq}
		if f, ok := flags[e.Author]; ok {
			a.Equivocated, a.FlaggedAt = true, &f.DetectedAt
		}
		out.Authors = append(out.Authors, a)
	}
	writeJSON(w, http.StatusOK, out)
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
	out := wire.Equivocations{Equivocations: []wire.Equivocation{}}
	if fs := s.opts.DAG.Flagged(); fs != nil {
		out.Flagged = make([]wire.Flag, len(fs))
		for i, f := range fs {
			out.Flagged[i] = wire.Flag{Author: f.Author.String(), Seq: f.Seq, DetectedAt: f.DetectedAt}
		}
	}
	for _, e := range es {
		out.Equivocations = append(out.Equivocations, wire.Equivocation{Author: e.Author.String(), Seq: e.Seq, Vertices: texts(e.Vertices)})
	}
	writeJSON(w, http.StatusOK, out)
}
