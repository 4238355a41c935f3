// Package op defines ONVM's operation kinds — the typed bodies that travel
// in DAG vertices — with their strict decoders and stateless validators.
//
// Registry returns a dag.Registry with every kind defined; the node adds one
// dag.Handler per kind (Registry().Handle) to give operations their effect.
// Validators check only what an operation and its vertex's author determine
// (signatures, proofs of possession, limits, that a publisher is the
// author); anything that needs state (a committee, a stored manifest) is
// decided by the handler's Apply. The package must not read or write node state.
//
// This package imports consensus and program, so those packages must not
// import dag/op (the node adapts between them).
package op

import (
	"errors"
	"fmt"

	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/dag"
)

// Operation kinds. The values are part of the wire format.
const (
	KindBlobPublished       dag.Kind = 1
	KindProgramDeployed     dag.Kind = 2
	KindTransition          dag.Kind = 3
	KindJobRecord           dag.Kind = 4
	KindValidatorRegistered dag.Kind = 5
)

// ErrInvalid reports an operation body that does not decode or validate.
var ErrInvalid = errors.New("invalid operation body")

// Registry returns a registry defining every ONVM kind with its stateless
// validator and no handler.
func Registry() *dag.Registry {
	r := dag.NewRegistry()
	must := func(err error) {
		if err != nil {
			panic(err) // fixed definitions; cannot fail
		}
	}
	must(r.Define(KindBlobPublished, "blob_published", validateBlobPublished))
	must(r.Define(KindProgramDeployed, "program_deployed", validateProgramDeployed))
	must(r.Define(KindTransition, "transition", validateTransition))
	must(r.Define(KindJobRecord, "job_record", validateJobRecord))
	must(r.Define(KindValidatorRegistered, "validator_registered", validateValidatorRegistered))
	return r
}

// encode builds an Op of kind k from v's canonical encoding.
func encode(k dag.Kind, v any) (dag.Op, error) {
	b, err := codec.Marshal(v)
	if err != nil {
		return dag.Op{}, err
	}
	if len(b) > dag.MaxOpSize {
		return dag.Op{}, fmt.Errorf("%w: kind %d body of %d bytes", ErrInvalid, k, len(b))
	}
	return dag.Op{Kind: k, Body: b}, nil
}

// decode strictly decodes op's body into v, checking the kind.
func decode(op dag.Op, k dag.Kind, v any) error {
	if op.Kind != k {
		return fmt.Errorf("%w: kind %d, want %d", ErrInvalid, op.Kind, k)
	}
	if len(op.Body) > dag.MaxOpSize {
		return fmt.Errorf("%w: body of %d bytes", ErrInvalid, len(op.Body))
	}
	if err := codec.Unmarshal(op.Body, v); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}
