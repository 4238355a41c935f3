package api

import (
	"fmt"

	"github.com/onvm-network/onvm/client/wire"
	"github.com/onvm-network/onvm/internal/job"
)

// jobStatuses names each of the job package's states by the API's one
// vocabulary (wire.JobStatus). The job package keeps its own compact type
// for its records; this table is the only place the two meet.
var jobStatuses = map[job.Status]wire.JobStatus{
	job.Pending:   wire.JobPending,
	job.Running:   wire.JobRunning,
	job.Completed: wire.JobCompleted,
	job.Failed:    wire.JobFailed,
	job.Cancelled: wire.JobCancelled,
	job.TimedOut:  wire.JobTimedOut,
	job.Expired:   wire.JobExpired,
}

// jobStatus is s as the API names it.
func jobStatus(s job.Status) wire.JobStatus { return jobStatuses[s] }

// parseJobStatus reads a ?status= query value: a 400 invalid_status
// unless it names a state.
func parseJobStatus(text string) (job.Status, error) {
	for s, w := range jobStatuses {
		if string(w) == text {
			return s, nil
		}
	}
	return 0, badRequest(wire.CodeInvalidStatus, "status is not a job status",
		fmt.Errorf("%w: unknown status %q", job.ErrInvalid, text))
}
