package op

import (
	"crypto/ed25519"
	"fmt"
	"unicode/utf8"

	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/dag"
	"github.com/onvm-network/onvm/internal/id"
)

// jobDomain separates job record signatures from other Ed25519 signatures.
const jobDomain = "ONVM:JOBRECORD:V1"

// Limits of a JobRecord.
const (
	MaxRequestID = 256
	MaxJobError  = 4096
)

// JobStatus is a job's terminal state. Only terminal records replicate.
type JobStatus string

// Terminal job states.
const (
	JobSucceeded JobStatus = "succeeded"
	JobFailed    JobStatus = "failed"
	JobCancelled JobStatus = "cancelled"
	JobTimedOut  JobStatus = "timed_out"
)

// JobRecord is the terminal record of a job, signed by the node that
// executed it. The job package extends it; new fields get new keys.
type JobRecord struct {
	Job        id.Job     `cbor:"1,keyasint" json:"job"`
	Program    id.Program `cbor:"2,keyasint" json:"program"`
	RequestID  string     `cbor:"3,keyasint" json:"request_id"`
	Status     JobStatus  `cbor:"4,keyasint" json:"status"`
	Output     id.Blob    `cbor:"5,keyasint" json:"output"`  // zero: no output
	Receipt    id.Hash    `cbor:"6,keyasint" json:"receipt"` // zero: no transition
	Fuel       uint64     `cbor:"7,keyasint" json:"fuel"`
	Error      string     `cbor:"8,keyasint" json:"error"`
	CreatedAt  int64      `cbor:"9,keyasint" json:"created_at"` // Unix ms
	StartedAt  int64      `cbor:"10,keyasint" json:"started_at"`
	FinishedAt int64      `cbor:"11,keyasint" json:"finished_at"`
	Executor   id.Node    `cbor:"12,keyasint" json:"executor"`
	Signature  []byte     `cbor:"13,keyasint" json:"signature"`
}

func (j *JobRecord) digest() (id.Hash, error) {
	u := *j
	u.Signature = nil
	b, err := codec.Marshal(&u)
	if err != nil {
		return id.Hash{}, err
	}
	return id.Sum([]byte(jobDomain), b), nil
}

// Sign signs the record with the executor's key (whose public half must
// be j.Executor).
func (j *JobRecord) Sign(key ed25519.PrivateKey) error {
	pub, ok := key.Public().(ed25519.PublicKey)
	if !ok || id.Node(pub) != j.Executor {
		return fmt.Errorf("sign job record %s: %w: key is not the executor's", j.Job, ErrInvalid)
	}
	d, err := j.digest()
	if err != nil {
		return fmt.Errorf("sign job record %s: %w", j.Job, err)
	}
	j.Signature = ed25519.Sign(key, d[:])
	return nil
}

// Verify checks the record's shape, that its job id is
// BLAKE3(program ‖ request id), and the executor's signature.
func (j *JobRecord) Verify() error {
	switch j.Status {
	case JobSucceeded, JobFailed, JobCancelled, JobTimedOut:
	default:
		return fmt.Errorf("%w: job %s status %q is not terminal", ErrInvalid, j.Job, j.Status)
	}
	switch {
	case len(j.RequestID) == 0 || len(j.RequestID) > MaxRequestID || !utf8.ValidString(j.RequestID):
		return fmt.Errorf("%w: job %s request id", ErrInvalid, j.Job)
	case len(j.Error) > MaxJobError || !utf8.ValidString(j.Error):
		return fmt.Errorf("%w: job %s error text", ErrInvalid, j.Job)
	case id.JobOf(j.Program, j.RequestID) != j.Job:
		return fmt.Errorf("%w: job id %s is not BLAKE3(program ‖ request id)", ErrInvalid, j.Job)
	}
	d, err := j.digest()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if len(j.Signature) != ed25519.SignatureSize || !ed25519.Verify(j.Executor[:], d[:], j.Signature) {
		return fmt.Errorf("%w: job %s: executor signature does not verify", ErrInvalid, j.Job)
	}
	return nil
}

// Op returns the operation.
func (j JobRecord) Op() (dag.Op, error) { return encode(KindJobRecord, &j) }

// DecodeJobRecord strictly decodes op's body and verifies the record.
func DecodeJobRecord(op dag.Op) (*JobRecord, error) {
	var j JobRecord
	if err := decode(op, KindJobRecord, &j); err != nil {
		return nil, fmt.Errorf("decode job_record: %w", err)
	}
	if err := j.Verify(); err != nil {
		return nil, fmt.Errorf("decode job_record: %w", err)
	}
	return &j, nil
}

func validateJobRecord(op dag.Op, _ *dag.Vertex) error {
	_, err := DecodeJobRecord(op)
	return err
}
