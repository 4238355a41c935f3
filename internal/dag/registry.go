package dag

import (
	"context"
	"fmt"
)

// Handler applies operations of one kind to the node's state. The node
// implements one per kind and registers it.
//
// The DAG calls Apply for each operation of each accepted vertex, in the
// vertex's order, on one goroutine, after every operation of every
// ancestor of the vertex has been applied (causal order). Acceptance does
// not consult handlers: a vertex that passes the stateless checks and
// descends from accepted vertices is accepted, so one bad operation never
// holds back the good ones beside it or the vertices after it.
//
// Apply decides each operation. An error wrapping ErrInvalidOp refuses it:
// the DAG counts it (Stats.RefusedOps), reports the author through
// Config.OnInvalidOp, keeps the vertex as evidence and goes on with the
// next operation. What Apply decides must depend only on the operation and
// the vertex's causal past, so that every node decides alike; an operation
// that needs something not there yet (code still being fetched) is kept by
// the handler until it can be applied, not refused. Any other error is a
// local failure (a disk error, a closing node): application stops and the
// operation is re-driven later, starting with it.
//
// Apply is called once per accepted operation per node. The one exception
// is a crash or a local failure: the operation being applied then is
// applied again, so Apply must be idempotent (applying an operation
// already applied changes nothing). Apply must not call back into the
// DAG's Add or Propose.
type Handler interface {
	Apply(ctx context.Context, op Op, v *Vertex) error
}

// ValidateFunc checks an operation without any state: it decodes the body
// strictly and checks what the operation and its vertex's author alone
// determine (signatures, proofs of possession, limits, that a publisher is
// the author). It runs before a vertex is gossiped on, so it must be cheap
// and must not read the node's state.
type ValidateFunc func(op Op, v *Vertex) error

// KindSpec describes one operation kind.
type KindSpec struct {
	Name     string       // short, lower_snake; used in metrics and logs
	Validate ValidateFunc // nil: any non-empty body is valid
	Handler  Handler      // nil: operations are stored but not applied
}

// Registry maps kinds to their specs. Build it before Open; the DAG copies
// it. A vertex carrying an operation of an unregistered kind is rejected.
type Registry struct {
	kinds map[Kind]KindSpec
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{kinds: make(map[Kind]KindSpec)} }

// Define declares kind k with its name and stateless validator.
func (r *Registry) Define(k Kind, name string, validate ValidateFunc) error {
	if _, dup := r.kinds[k]; dup {
		return fmt.Errorf("define operation kind %d (%s): already defined", k, name)
	}
	if name == "" {
		return fmt.Errorf("define operation kind %d: empty name", k)
	}
	r.kinds[k] = KindSpec{Name: name, Validate: validate}
	return nil
}

// Handle sets the handler of an already defined kind.
func (r *Registry) Handle(k Kind, h Handler) error {
	s, ok := r.kinds[k]
	if !ok {
		return fmt.Errorf("handle operation kind %d: %w", k, ErrUnknownKind)
	}
	s.Handler = h
	r.kinds[k] = s
	return nil
}

// Spec returns the spec of kind k.
func (r *Registry) Spec(k Kind) (KindSpec, bool) {
	s, ok := r.kinds[k]
	return s, ok
}

func (r *Registry) clone() map[Kind]KindSpec {
	m := make(map[Kind]KindSpec, len(r.kinds))
	for k, s := range r.kinds {
		m[k] = s
	}
	return m
}

// validateOps runs the stateless validator of every operation of v.
func validateOps(kinds map[Kind]KindSpec, v *Vertex) error {
	for i, op := range v.Ops {
		s, ok := kinds[op.Kind]
		if !ok {
			return fmt.Errorf("operation %d: %w: %d", i, ErrUnknownKind, op.Kind)
		}
		if s.Validate == nil {
			continue
		}
		if err := s.Validate(op, v); err != nil {
			return fmt.Errorf("operation %d (%s): %w: %w", i, s.Name, ErrInvalidOp, err)
		}
	}
	return nil
}
