package job

import (
	"encoding/binary"

	"github.com/onvm-network/onvm/internal/id"
)

// Key layout under the "j/" prefix of the node database. Times are Unix
// milliseconds, big-endian, so keys sort by time.
//
//	j/r/<job>                      the job's record (canonical CBOR)
//	j/q/<run at><job>              a pending job, by when it next needs the scheduler
//	j/c/<created><job>             every job, by creation (GET /jobs)
//	j/s/<status><created><job>     by status (GET /jobs?status=, restart recovery)
//	j/p/<program><created><job>    by program (GET /jobs?program_id=)
//	j/l/<job><seq>                 the job's log entries
//	j/x/<job>                      a peer's signed terminal record (imported)
//	j/m/<lane>                     persisted totals for /health/metrics
//	j/i/<job>                      a small input's bytes (inline)
//	j/w/<seq><kind><job>           an input or output still to copy into the blob store
const (
	nsRecord  = "j/r/"
	nsQueue   = "j/q/"
	nsCreated = "j/c/"
	nsStatus  = "j/s/"
	nsProgram = "j/p/"
	nsLog     = "j/l/"
	nsSigned  = "j/x/"
	nsMetrics = "j/m/"
	nsInput   = "j/i/"
	nsCopy    = "j/w/"
)

func recordKey(j id.Job) []byte { return append([]byte(nsRecord), j[:]...) }

func signedKey(j id.Job) []byte { return append([]byte(nsSigned), j[:]...) }

func inputKey(j id.Job) []byte { return append([]byte(nsInput), j[:]...) }

func copyKey(seq int64, kind byte, j id.Job) []byte {
	k := make([]byte, 0, len(nsCopy)+8+1+len(j))
	k = append(k, nsCopy...)
	k = binary.BigEndian.AppendUint64(k, uint64(max(seq, 0)))
	k = append(k, kind)
	return append(k, j[:]...)
}

// splitCopyKey returns the parts of a copy key.
func splitCopyKey(k []byte) (seq int64, kind byte, j id.Job, ok bool) {
	if len(k) != len(nsCopy)+8+1+32 {
		return 0, 0, id.Job{}, false
	}
	k = k[len(nsCopy):]
	copy(j[:], k[9:])
	return int64(binary.BigEndian.Uint64(k[:8])), k[8], j, true
}

func timeKey(ns string, extra []byte, at int64, j id.Job) []byte {
	k := make([]byte, 0, len(ns)+len(extra)+8+len(j))
	k = append(k, ns...)
	k = append(k, extra...)
	k = binary.BigEndian.AppendUint64(k, uint64(max(at, 0)))
	return append(k, j[:]...)
}

func queueKey(at int64, j id.Job) []byte { return timeKey(nsQueue, nil, at, j) }

func createdKey(at int64, j id.Job) []byte { return timeKey(nsCreated, nil, at, j) }

func statusKey(s Status, at int64, j id.Job) []byte {
	return timeKey(nsStatus, []byte{byte(s)}, at, j)
}

func programKey(p id.Program, at int64, j id.Job) []byte { return timeKey(nsProgram, p[:], at, j) }

func logKey(j id.Job, seq uint32) []byte {
	k := append([]byte(nsLog), j[:]...)
	return binary.BigEndian.AppendUint32(k, seq)
}

// splitTimeKey returns the time and job id at the end of an index key.
func splitTimeKey(k []byte) (int64, id.Job, bool) {
	if len(k) < 8+32 {
		return 0, id.Job{}, false
	}
	tail := k[len(k)-40:]
	var j id.Job
	copy(j[:], tail[8:])
	return int64(binary.BigEndian.Uint64(tail[:8])), j, true
}
