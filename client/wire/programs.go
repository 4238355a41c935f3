package wire

// DeployRequest is the JSON body of POST /programs: the module in base64
// (wasm_base64) or a blob uploaded before (code_blob), not both. A deploy
// may also send the raw module as the body, with ?entrypoint=, ?salt= and
// ?blob_refs= in the query.
type DeployRequest struct {
	WasmBase64 string   `json:"wasm_base64,omitempty"`
	CodeBlob   string   `json:"code_blob,omitempty"`
	Entrypoint string   `json:"entrypoint"`
	BlobRefs   []string `json:"blob_refs"`
	SaltBase64 *string  `json:"salt_base64,omitempty"` // absent: the node picks a random salt
}

// Program is the answer to GET /programs/{id} and POST /programs (201 when
// new, 200 when the same module and salt were deployed before): the
// original's fields and the signed manifest.
type Program struct {
	ID         string   `json:"id"`
	Publisher  string   `json:"publisher"`
	Size       int64    `json:"size"`
	Entrypoint string   `json:"entrypoint"`
	BlobRefs   []string `json:"blob_refs"`
	Manifest   Manifest `json:"manifest"`
	// Created is not in the body: the client sets it from the status
	// (201), true when the node had no such program before.
	Created bool `json:"-"`
}

// Manifest is a program's signed manifest; CBORBase64 is its canonical
// encoding, which is what the signature and the manifest id cover.
type Manifest struct {
	ManifestID       string    `json:"manifest_id"`
	ProgramID        string    `json:"program_id"`
	Version          uint64    `json:"version"`
	Deployer         string    `json:"deployer"`
	Entrypoints      []string  `json:"entrypoints"`
	WasmEnvHash      string    `json:"wasm_env_hash"`
	CodeBlob         string    `json:"code_blob"`
	CodeSize         int64     `json:"code_size"`
	InstrumentedBlob string    `json:"instrumented_blob"`
	SaltBase64       string    `json:"salt_base64"`
	BlobRefs         []string  `json:"blob_refs"`
	InitialRoot      string    `json:"initial_state_root"`
	Committee        Committee `json:"committee"` // without aggregate_public_key
	TimestampMS      int64     `json:"timestamp_ms"`
	Signature        string    `json:"signature"` // hex
	CBORBase64       string    `json:"cbor_base64"`
}

// Committee is a program's committee: the answer to
// GET /programs/{id}/committee, and the manifest's committee (which
// carries no aggregate key). Signer bitmaps index Members in this order.
type Committee struct {
	ProgramID          string   `json:"program_id"`
	Epoch              uint64   `json:"epoch"`
	AggregatePublicKey string   `json:"aggregate_public_key,omitempty"` // hex; the aggregate of the member keys
	Members            []Member `json:"members"`
	Threshold          uint64   `json:"threshold"` // signer weight needed
}

// Member is one committee member.
type Member struct {
	Node         string `json:"node"`
	Weight       uint64 `json:"weight"`
	BLSPublicKey string `json:"bls_public_key"` // hex, 96 bytes
}

// CatalogEntry is one program of GET /program-catalog (the original's
// fields; code_manifest is the manifest id, code_blob the module).
type CatalogEntry struct {
	ProgramID    string  `json:"program_id"`
	Version      uint64  `json:"version"`
	InitialRoot  string  `json:"initial_state_root"`
	DAGParent    *string `json:"dag_parent"`
	CodeManifest string  `json:"code_manifest"`
	CodeBlob     string  `json:"code_blob"`
	Entrypoint   string  `json:"entrypoint"`
	Deployer     string  `json:"deployer"`
	TimestampMS  int64   `json:"timestamp_ms"`
}

// CatalogPage is the answer to GET /program-catalog: programs in id order;
// NextCursor continues the listing.
type CatalogPage struct {
	Programs   []CatalogEntry `json:"programs"`
	NextCursor *string        `json:"next_cursor"`
}

// StateRoot is the answer to GET /programs/{id}/state-root: the original's
// fields (proof and value_hex null without ?key=), plus the height the root
// belongs to and whether the key is present.
type StateRoot struct {
	ProgramID string   `json:"program_id"`
	Root      string   `json:"root"`
	Height    *uint64  `json:"height"`
	Proof     []string `json:"proof"` // 256 sibling hashes, leaf to root
	ValueHex  *string  `json:"value_hex"`
	Present   *bool    `json:"present,omitempty"`
	KeyHex    *string  `json:"key_hex,omitempty"`
}
