package op

import (
	"fmt"

	"github.com/onvm-network/onvm/internal/consensus"
	"github.com/onvm-network/onvm/internal/dag"
)

// ValidatorRegistered registers the vertex author as a validator: its BLS
// key with a proof of possession. The body is the canonical
// consensus.Validator.
func ValidatorRegistered(v consensus.Validator) (dag.Op, error) {
	return encode(KindValidatorRegistered, &v)
}

// DecodeValidatorRegistered strictly decodes op's body and checks the
// proof of possession.
func DecodeValidatorRegistered(op dag.Op) (*consensus.Validator, error) {
	var v consensus.Validator
	if err := decode(op, KindValidatorRegistered, &v); err != nil {
		return nil, fmt.Errorf("decode validator_registered: %w", err)
	}
	if err := v.Verify(); err != nil {
		return nil, fmt.Errorf("decode validator_registered: %w: %w", ErrInvalid, err)
	}
	return &v, nil
}

// validateValidatorRegistered: a node registers only itself, so nobody can
// bind their BLS key to another node's id.
func validateValidatorRegistered(op dag.Op, vx *dag.Vertex) error {
	v, err := DecodeValidatorRegistered(op)
	if err != nil {
		return err
	}
	if v.Node != vx.Author {
		return fmt.Errorf("%w: validator %s registered in a vertex of %s", ErrInvalid, v.Node, vx.Author)
	}
	return nil
}
