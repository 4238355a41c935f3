package dag

import (
	"bytes"
	"crypto/ed25519"
	"fmt"

	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/id"
)

// Limits on a vertex. They hold end to end: an operation the Proposer
// accepts always fits in a vertex, and a vertex always fits in a gossip
// message and in a sync batch (see package p2p), so nothing valid is ever
// unpublishable.
const (
	// MaxOps is the most operations one vertex carries.
	MaxOps = 512
	// MaxParents bounds a vertex's parents: its author's previous vertex
	// and up to MaxParents-1 tips.
	MaxParents = 64
	// MaxOpSize bounds one operation's body.
	MaxOpSize = 2 << 20
	// MaxVertexSize bounds a vertex's canonical encoding.
	MaxVertexSize = 4 << 20
)

// vertexDomain separates vertex signatures from every other Ed25519
// signature a node makes.
const vertexDomain = "ONVM:VERTEX:V1"

// Kind names an operation type. Package dag/op defines ONVM's kinds; the
// values are part of the wire format.
type Kind uint16

// Op is one typed operation: its kind and the canonical encoding of its
// body. The DAG treats the body as opaque; the kind's validator and handler
// decode it.
type Op struct {
	Kind Kind   `cbor:"1,keyasint"`
	Body []byte `cbor:"2,keyasint"`
}

// Vertex is a signed batch of operations by one author.
//
// Seq counts the author's vertices from 1. When Seq > 1, Parents[0] is the
// author's vertex Seq-1; the remaining parents are tips by other authors,
// sorted by id. A vertex with Seq 1 has no parent by its own author.
// Timestamp (Unix ms) is the author's clock, informational only: no
// acceptance rule reads a clock, so every node accepts the same vertices.
type Vertex struct {
	Author    id.Node   `cbor:"1,keyasint"`
	Seq       uint64    `cbor:"2,keyasint"`
	Parents   []id.Hash `cbor:"3,keyasint"`
	Ops       []Op      `cbor:"4,keyasint"`
	Timestamp int64     `cbor:"5,keyasint"`
	Signature []byte    `cbor:"6,keyasint"`

	raw      []byte  // canonical encoding, set by Decode and Sign
	vid      id.Hash // BLAKE3(raw)
	sigOK    bool    // Verify passed
	verified bool    // Precheck passed
}

// ID returns the vertex id, BLAKE3 of its canonical encoding. It is valid
// only for a vertex produced by Decode or Sign.
func (v *Vertex) ID() id.Hash { return v.vid }

// Raw returns the canonical encoding. The caller must not modify it.
func (v *Vertex) Raw() []byte { return v.raw }

// signingDigest is what the author signs: BLAKE3(domain ‖ canonical
// encoding of the vertex with a nil signature).
func (v *Vertex) signingDigest() (id.Hash, error) {
	u := *v
	u.Signature = nil
	b, err := codec.Marshal(&u)
	if err != nil {
		return id.Hash{}, err
	}
	return id.Sum([]byte(vertexDomain), b), nil
}

// Sign signs v with key, whose public half must be v.Author, and fixes its
// encoding and id. v must not be modified afterwards.
func (v *Vertex) Sign(key ed25519.PrivateKey) error {
	pub, ok := key.Public().(ed25519.PublicKey)
	if !ok || !bytes.Equal(pub, v.Author[:]) {
		return fmt.Errorf("sign vertex %s/%d: %w: key is not the author's", v.Author, v.Seq, ErrInvalidVertex)
	}
	d, err := v.signingDigest()
	if err != nil {
		return fmt.Errorf("sign vertex %s/%d: %w", v.Author, v.Seq, err)
	}
	v.Signature = ed25519.Sign(key, d[:])
	raw, err := codec.Marshal(v)
	if err != nil {
		return fmt.Errorf("sign vertex %s/%d: %w", v.Author, v.Seq, err)
	}
	if len(raw) > MaxVertexSize {
		return fmt.Errorf("sign vertex %s/%d: %w: %w: %d bytes", v.Author, v.Seq, ErrInvalidVertex, errTooLarge, len(raw))
	}
	v.raw, v.vid = raw, id.Sum(raw)
	return nil
}

// Decode strictly decodes a vertex from untrusted bytes and checks its
// shape and signature (Verify). It does not check operations against a
// registry; DAG.Precheck does.
func Decode(b []byte) (*Vertex, error) {
	if len(b) > MaxVertexSize {
		return nil, fmt.Errorf("decode vertex: %w: %w: %d bytes", ErrInvalidVertex, errTooLarge, len(b))
	}
	var v Vertex
	if err := codec.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("decode vertex: %w: %w: %v", ErrInvalidVertex, errMalformed, err)
	}
	v.raw = b
	v.vid = id.Sum(b)
	if err := v.Verify(); err != nil {
		return nil, err
	}
	v.sigOK = true
	return &v, nil
}

// Verify checks everything about v that needs neither its parents nor a
// registry: limits, parent list shape, and the author's signature.
func (v *Vertex) Verify() error {
	if err := v.checkShape(); err != nil {
		return fmt.Errorf("verify vertex %s: %w: %w: %v", v.vid, ErrInvalidVertex, errShape, err)
	}
	d, err := v.signingDigest()
	if err != nil {
		return fmt.Errorf("verify vertex %s: %w: %v", v.vid, ErrInvalidVertex, err)
	}
	if len(v.Signature) != ed25519.SignatureSize || !ed25519.Verify(v.Author[:], d[:], v.Signature) {
		return fmt.Errorf("verify vertex %s: %w: %w", v.vid, ErrInvalidVertex, errBadSignature)
	}
	return nil
}

func (v *Vertex) checkShape() error {
	switch {
	case v.Seq == 0:
		return fmt.Errorf("sequence 0")
	case v.Timestamp <= 0:
		return fmt.Errorf("timestamp %d", v.Timestamp)
	case len(v.Ops) == 0 || len(v.Ops) > MaxOps:
		return fmt.Errorf("%d operations", len(v.Ops))
	case len(v.Parents) > MaxParents:
		return fmt.Errorf("%d parents", len(v.Parents))
	case v.Parents != nil && len(v.Parents) == 0:
		return fmt.Errorf("empty parent list must be null")
	case v.Seq > 1 && len(v.Parents) == 0:
		return fmt.Errorf("sequence %d without a self parent", v.Seq)
	}
	others := v.Parents
	if v.Seq > 1 {
		others = v.Parents[1:]
	}
	for i, p := range v.Parents {
		if p.IsZero() {
			return fmt.Errorf("zero parent")
		}
		if i > 0 && v.Seq > 1 && p == v.Parents[0] {
			return fmt.Errorf("self parent repeated")
		}
	}
	for i := 1; i < len(others); i++ {
		if bytes.Compare(others[i-1][:], others[i][:]) >= 0 {
			return fmt.Errorf("parents not sorted and distinct")
		}
	}
	for _, op := range v.Ops {
		if len(op.Body) == 0 || len(op.Body) > MaxOpSize {
			return fmt.Errorf("operation kind %d body of %d bytes", op.Kind, len(op.Body))
		}
	}
	return nil
}
