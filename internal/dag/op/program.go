package op

import (
	"fmt"

	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/program"
)

// ProgramDeployed carries a signed program manifest; the body is the
// manifest's canonical encoding.
func ProgramDeployed(m *program.Manifest) (dag.Op, error) {
	b := m.Encode()
	if len(b) > program.MaxManifestSize {
		return dag.Op{}, fmt.Errorf("%w: manifest of %d bytes", ErrInvalid, len(b))
	}
	return dag.Op{Kind: KindProgramDeployed, Body: b}, nil
}

// DecodeProgramDeployed strictly decodes the manifest and verifies its
// shape, committee and deployer signature (program.Decode). It cannot check
// the code binding (VerifyCode): that needs the code, which the handler
// fetches.
func DecodeProgramDeployed(op dag.Op) (*program.Manifest, error) {
	if op.Kind != KindProgramDeployed {
		return nil, fmt.Errorf("decode program_deployed: %w: kind %d", ErrInvalid, op.Kind)
	}
	m, err := program.Decode(op.Body)
	if err != nil {
		return nil, fmt.Errorf("decode program_deployed: %w: %w", ErrInvalid, err)
	}
	return m, nil
}

// validateProgramDeployed: the deployer is the vertex's author, so a
// manifest reaches the DAG only through its own signer, who answers for it
// (a manifest whose code later fails VerifyCode is charged to the author).
func validateProgramDeployed(op dag.Op, v *dag.Vertex) error {
	m, err := DecodeProgramDeployed(op)
	if err != nil {
		return err
	}
	if m.Body.Deployer != v.Author {
		return fmt.Errorf("%w: program %s deployed by %s in a vertex of %s", ErrInvalid, m.Body.Program, m.Body.Deployer, v.Author)
	}
	return nil
}
