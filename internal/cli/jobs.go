package cli

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/onvm-network/onvm/client"
	"github.com/onvm-network/onvm/client/wire"
)

// jobWaitPoll is how long one long-poll of --wait lasts (the node caps
// it at 60s); progress is printed on every change in between.
const jobWaitPoll = 25 * time.Second

func (e *env) submitJobCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "submit-job",
		Short: "Submit an asynchronous job",
		Long: `submit-job queues an execution of a deployed program (POST /jobs) and prints the node's
answer {"job_id","status"}. The job id is BLAKE3(program id ‖ request id): submitting the
same request id and payload again returns the same job instead of running it twice; the
same request id with another payload is refused (409) naming the fields that differ.
Without --request-id a random one is used (printed on stderr). Transient failures (code or
input not on the node yet, shutdown, overload) are retried up to --max-retries times with
exponential backoff; deterministic ones (trap, out of fuel) fail at once.

--wait blocks until the job is finished, printing each change of status on stderr, then
prints the job as JSON; it exits 1 unless the job completed.`,
		Example: "  onvm submit-job --rpc :8080 --program-id prog<hex> --input in.json --request-id order-42 --wait\n" +
			"  onvm submit-job --program-id prog<hex> --input-blob-id blob<hex> --max-retries 5 --timeout-ms 60000",
		Args: cobra.NoArgs,
		RunE: e.runSubmitJob,
	}
	addRPCFlag(cmd)
	f := cmd.Flags()
	f.String("program-id", "", "program id: prog<64 hex> or 64 hex (required)")
	f.String("input", "", "input file, - for stdin (default: empty input)")
	f.String("input-blob-id", "", "use a stored blob as the input instead of --input")
	f.String("request-id", "", "idempotency key (default: a random UUID)")
	f.Uint32("max-retries", 3, "retries after transient failures")
	f.Int64("timeout-ms", 0, "wall-clock limit per attempt in ms (default: the node's)")
	f.Uint64("fuel-limit", 0, "fuel budget per attempt (default: the node's)")
	f.Int64("ttl-ms", 0, "expire the job if it has not run this many ms after submission (default: never)")
	f.StringToString("metadata", nil, "key=value pairs kept with the job (repeatable)")
	f.Bool("wait", false, "wait until the job finishes, showing its progress")
	_ = cmd.MarkFlagRequired("program-id")
	return cmd
}

func (e *env) runSubmitJob(cmd *cobra.Command, _ []string) error {
	c, err := e.client(cmd)
	if err != nil {
		return err
	}
	f := cmd.Flags()
	pid, _ := f.GetString("program-id")
	inPath, _ := f.GetString("input")
	blobID, _ := f.GetString("input-blob-id")
	rid, _ := f.GetString("request-id")
	retries, _ := f.GetUint32("max-retries")
	timeout, _ := f.GetInt64("timeout-ms")
	fuel, _ := f.GetUint64("fuel-limit")
	ttl, _ := f.GetInt64("ttl-ms")
	meta, _ := f.GetStringToString("metadata")
	wait, _ := f.GetBool("wait")
	if inPath != "" && blobID != "" {
		return usageError{err: errors.New("give --input or --input-blob-id, not both")}
	}
	req := client.SubmitJobRequest{RequestID: rid, ProgramID: pid, InputBlobID: blobID, MaxRetries: &retries,
		TimeoutMS: timeout, FuelLimit: fuel, TTLMS: ttl, Metadata: meta}
	if inPath != "" {
		if req.Input, err = e.readInput(inPath, maxInputFile); err != nil {
			return fmt.Errorf("submit-job: --input: %w", err)
		}
	}
	if req.RequestID == "" {
		req.RequestID = uuid4()
		printf(cmd.ErrOrStderr(), "request id: %s\n", req.RequestID)
	}
	res, err := c.SubmitJob(cmd.Context(), req)
	if err != nil {
		return fmt.Errorf("submit-job: %w", nodeError(c, err))
	}
	if !res.Created {
		printf(cmd.ErrOrStderr(), "job %s already submitted with this request id and payload\n", res.JobID)
	}
	if !wait {
		return printJSON(cmd.OutOrStdout(), res)
	}
	return e.waitJob(cmd, c, res.JobID)
}

// waitJob long-polls job until it is terminal, printing every change of
// status on stderr and the final job on stdout; an unsuccessful end is
// an error (exit 1).
func (e *env) waitJob(cmd *cobra.Command, c *client.Client, jobID string) error {
	var seen client.JobStatus
	for {
		var j *client.Job
		var err error
		if seen == "" {
			j, err = c.Job(cmd.Context(), jobID)
		} else {
			j, err = c.WaitJob(cmd.Context(), jobID, seen, jobWaitPoll)
		}
		if err != nil {
			return fmt.Errorf("wait for job %s: %w", jobID, nodeError(c, err))
		}
		if j.Status != seen {
			progress(cmd.ErrOrStderr(), j)
			seen = j.Status
		}
		if !j.Terminal() {
			continue
		}
		if err := printJSON(cmd.OutOrStdout(), j); err != nil {
			return err
		}
		if j.Status != wire.JobCompleted {
			why := string(j.Status)
			if j.ErrorMessage != nil {
				why += ": " + *j.ErrorMessage
			}
			return fmt.Errorf("job %s %s", jobID, why)
		}
		return nil
	}
}

// progress prints one line about where job j stands.
func progress(w io.Writer, j *client.Job) {
	line := fmt.Sprintf("job %s: %s", short(j.JobID), j.Status)
	switch j.Status {
	case wire.JobRunning:
		line += fmt.Sprintf(" (attempt %d)", j.Attempts)
	case wire.JobPending:
		if j.RetryCount > 0 {
			line += fmt.Sprintf(" (retry %d/%d", j.RetryCount, j.MaxRetries)
			if j.NextAttemptAt != nil {
				line += " at " + time.UnixMilli(*j.NextAttemptAt).UTC().Format("15:04:05.000")
			}
			if j.FailureReason != nil {
				line += " after " + *j.FailureReason
			}
			line += ")"
		}
	case wire.JobCompleted:
		line += fmt.Sprintf(" (fuel %d", j.FuelConsumed)
		if j.DurationMS != nil {
			line += fmt.Sprintf(", %d ms", *j.DurationMS)
		}
		line += ")"
	default:
		if j.FailureReason != nil {
			line += " (" + *j.FailureReason + ")"
		}
	}
	printf(w, "%s\n", line)
}

func short(jobID string) string {
	if len(jobID) > 12 {
		return jobID[:12]
	}
	return jobID
}

// uuid4 returns a random RFC 4122 version 4 UUID, the original's default
// request id.
func uuid4() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func addJobIDFlag(cmd *cobra.Command) {
	cmd.Flags().String("job-id", "", "job id: 64 hex (required)")
	_ = cmd.MarkFlagRequired("job-id")
}

func (e *env) jobStatusCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "job-status",
		Short: "Show a job",
		Long: `job-status prints a job as JSON (GET /jobs/{id}): status, attempts, retries, fuel, times,
error and failure reason, receipt and output blob ids. --wait waits until it finishes,
showing its progress on stderr (exit 1 unless it completed).`,
		Example: "  onvm job-status --rpc :8080 --job-id <64 hex> --wait",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.client(cmd)
			if err != nil {
				return err
			}
			jid, _ := cmd.Flags().GetString("job-id")
			if wait, _ := cmd.Flags().GetBool("wait"); wait {
				return e.waitJob(cmd, c, jid)
			}
			j, err := c.Job(cmd.Context(), jid)
			if err != nil {
				return fmt.Errorf("job-status: %w", nodeError(c, err))
			}
			return printJSON(cmd.OutOrStdout(), j)
		},
	}
	addRPCFlag(cmd)
	addJobIDFlag(cmd)
	cmd.Flags().Bool("wait", false, "wait until the job finishes, showing its progress")
	return cmd
}

func (e *env) jobOutputCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "job-output",
		Short: "Save a completed job's output",
		Long: `job-output fetches a completed job's output (GET /jobs/{id}/output) and writes it to --out
(atomically), or to stdout without --out. A job that did not complete has no output
(409 job_not_completed).`,
		Example: "  onvm job-output --rpc :8080 --job-id <64 hex> --out result.bin",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.client(cmd)
			if err != nil {
				return err
			}
			jid, _ := cmd.Flags().GetString("job-id")
			out, _ := cmd.Flags().GetString("out")
			res, err := c.JobOutput(cmd.Context(), jid)
			if err != nil {
				return fmt.Errorf("job-output: %w", nodeError(c, err))
			}
			data, err := res.Output()
			if err != nil {
				return fmt.Errorf("job-output: the node returned invalid base64: %w", err)
			}
			if out == "" || out == "-" {
				_, err := cmd.OutOrStdout().Write(data)
				return err
			}
			if _, err := writeFileAtomic(out, bytes.NewReader(data)); err != nil {
				return fmt.Errorf("job-output: %w", err)
			}
			printf(cmd.OutOrStdout(), "output saved to %s\n", out)
			return nil
		},
	}
	addRPCFlag(cmd)
	addJobIDFlag(cmd)
	cmd.Flags().String("out", "", "file to write the output to (default: stdout)")
	return cmd
}

func (e *env) jobLogsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "job-logs",
		Short: "Show a job's log",
		Long: `job-logs prints a job's log (GET /jobs/{id}/logs) as JSON: the scheduler's entries
(submitted, attempts started, failures, retries, cancellation) and what the guest logged
(onvm_log, stdout, stderr), bounded by the node's jobs.max_log_bytes. --text prints one
line per entry instead.`,
		Example: "  onvm job-logs --rpc :8080 --job-id <64 hex> --text",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.client(cmd)
			if err != nil {
				return err
			}
			jid, _ := cmd.Flags().GetString("job-id")
			logs, err := c.JobLogs(cmd.Context(), jid)
			if err != nil {
				return fmt.Errorf("job-logs: %w", nodeError(c, err))
			}
			if text, _ := cmd.Flags().GetBool("text"); !text {
				return printJSON(cmd.OutOrStdout(), logs)
			}
			for _, l := range logs.Logs {
				ts := time.UnixMilli(l.Timestamp).UTC().Format(time.RFC3339Nano)
				printf(cmd.OutOrStdout(), "%s %-5s %-9s %s\n", ts, l.Level, l.Source, l.Message)
			}
			return nil
		},
	}
	addRPCFlag(cmd)
	addJobIDFlag(cmd)
	cmd.Flags().Bool("text", false, "one line per entry instead of JSON")
	return cmd
}

func (e *env) cancelJobCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cancel-job",
		Short: "Cancel a pending or running job",
		Long: `cancel-job cancels a job (POST /jobs/{id}/cancel). A running guest is stopped and commits
nothing; the job stays cancelled. A job that already finished cannot be cancelled (409).`,
		Example: "  onvm cancel-job --rpc :8080 --job-id <64 hex>",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.client(cmd)
			if err != nil {
				return err
			}
			jid, _ := cmd.Flags().GetString("job-id")
			j, err := c.CancelJob(cmd.Context(), jid)
			if err != nil {
				return fmt.Errorf("cancel-job: %w", nodeError(c, err))
			}
			printf(cmd.OutOrStdout(), "job %s cancelled\n", j.JobID)
			return nil
		},
	}
	addRPCFlag(cmd)
	addJobIDFlag(cmd)
	return cmd
}

func (e *env) listJobsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list-jobs",
		Short: "List jobs",
		Long: `list-jobs prints a page of jobs in submission order (GET /jobs) as JSON, optionally only
those in one --status (pending, running, completed, failed, cancelled, timed_out,
expired) and of one --program-id. next_cursor continues the listing (--cursor); --all
follows it to the end.`,
		Example: "  onvm list-jobs --rpc :8080 --status failed --program-id prog<hex> --all",
		Args:    cobra.NoArgs,
		RunE:    e.runListJobs,
	}
	addRPCFlag(cmd)
	cmd.Flags().String("status", "", "only jobs in this state")
	cmd.Flags().String("program-id", "", "only jobs of this program")
	cmd.Flags().String("cursor", "", "continue after a previous page's next_cursor")
	cmd.Flags().Int("limit", 0, "jobs per page, 1-1000 (default: the node's, 100)")
	cmd.Flags().Bool("all", false, "follow next_cursor and print every page as one list")
	return cmd
}

func (e *env) runListJobs(cmd *cobra.Command, _ []string) error {
	c, err := e.client(cmd)
	if err != nil {
		return err
	}
	f := cmd.Flags()
	q := client.JobQuery{}
	status, _ := f.GetString("status")
	q.Status = client.JobStatus(status)
	q.ProgramID, _ = f.GetString("program-id")
	q.Cursor, _ = f.GetString("cursor")
	q.Limit, _ = f.GetInt("limit")
	all, _ := f.GetBool("all")
	out := &client.JobPage{Jobs: []client.Job{}}
	for {
		page, err := c.Jobs(cmd.Context(), q)
		if err != nil {
			return fmt.Errorf("list-jobs: %w", nodeError(c, err))
		}
		if !all {
			return printJSON(cmd.OutOrStdout(), page)
		}
		out.Jobs = append(out.Jobs, page.Jobs...)
		if page.NextCursor == nil {
			break
		}
		if err := cmd.Context().Err(); err != nil {
			return err
		}
		q.Cursor = *page.NextCursor
	}
	out.Total = len(out.Jobs)
	return printJSON(cmd.OutOrStdout(), out)
}

// jobCommands are the job commands, for the root command.
func (e *env) jobCommands() []*cobra.Command {
	return []*cobra.Command{
		e.submitJobCommand(), e.jobStatusCommand(), e.jobOutputCommand(),
		e.jobLogsCommand(), e.cancelJobCommand(), e.listJobsCommand(),
	}
}
