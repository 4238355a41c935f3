package consensus

import (
	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/id"
)

// Receipt is an execution receipt: what one state transition of a program
// consumed and produced. Its id is the BLAKE3 of its canonical encoding;
// a committee certifies the root of a batch of receipt ids (see
// CertifiedReceipt).
type Receipt struct {
	Program      id.Program `cbor:"1,keyasint"`
	Height       uint64     `cbor:"2,keyasint"`
	StateRootIn  id.Hash    `cbor:"3,keyasint"`
	StateRootOut id.Hash    `cbor:"4,keyasint"`
	InputHash    id.Hash    `cbor:"5,keyasint"` // BLAKE3 of the input bytes
	RequestID    id.Hash    `cbor:"6,keyasint"` // idempotency key (jobs) or BLAKE3 of a client request
	FuelUsed     uint64     `cbor:"7,keyasint"`
	WriteDigest  id.Hash    `cbor:"8,keyasint"` // state.WriteDigest of the ordered writes
	OutputHash   id.Hash    `cbor:"9,keyasint"`
	CodeHash     id.Hash    `cbor:"10,keyasint"` // BLAKE3 of the instrumented module
	EnvHash      id.Hash    `cbor:"11,keyasint"` // the runtime's environment hash
	Timestamp    int64      `cbor:"12,keyasint"` // logical time of the call, Unix ms
	Executor     id.Node    `cbor:"13,keyasint"` // the leader that executed it
	Epoch        uint64     `cbor:"14,keyasint"` // committee epoch
}

// Encode returns the canonical encoding.
func (r *Receipt) Encode() []byte { return codec.MustMarshal(r) }

// ID returns the receipt id: BLAKE3 of the canonical encoding.
func (r *Receipt) ID() id.Hash { return id.Sum(r.Encode()) }
