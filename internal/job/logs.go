package job

import (
	"fmt"
	"strings"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/id"
	"github.com/onvm-network/onvm/internal/kv"
	"github.com/onvm-network/onvm/internal/wasm"
)

// LogEntry is one line of a job's log: the scheduler's lifecycle entries
// (source "scheduler") and what the guest logged (sources guest, stdout,
// stderr, host — the runtime's).
type LogEntry struct {
	Timestamp int64  `cbor:"1,keyasint" json:"timestamp"` // Unix ms
	Level     string `cbor:"2,keyasint" json:"level"`     // debug, info, warn, error
	Source    string `cbor:"3,keyasint" json:"source"`
	Message   string `cbor:"4,keyasint" json:"message"`
	Attempt   uint32 `cbor:"5,keyasint,omitempty" json:"attempt,omitempty"`
}

// Log levels and the scheduler's source.
const (
	LevelDebug = "debug"
	LevelInfo  = "info"
	LevelWarn  = "warn"
	LevelError = "error"

	SourceScheduler = "scheduler"
)

// logOverhead is charged per entry against jobs.max_log_bytes.
const logOverhead = 16

// DefaultMaxLogBytes bounds a job's log when Options.MaxLogBytes is 0.
const DefaultMaxLogBytes = 64 << 10

// appendLogs stages entries as job j's next log lines, keeping at most
// max bytes (message bytes + 16 per entry) over the job's life: the first
// entry that does not fit is replaced by one truncation note and the rest
// are dropped. It advances j.LogSeq and j.LogBytes, so the record must be
// staged after it.
func appendLogs(b *pebble.Batch, j *Job, max int64, entries ...LogEntry) error {
	for _, e := range entries {
		if j.LogBytes >= max {
			return nil
		}
		e.Message = strings.ToValidUTF8(e.Message, "\uFFFD")
		cost := int64(len(e.Message) + logOverhead)
		if j.LogBytes+cost > max {
			e = LogEntry{Timestamp: e.Timestamp, Level: LevelWarn, Source: SourceScheduler,
				Message: fmt.Sprintf("log truncated at jobs.max_log_bytes (%d bytes)", max), Attempt: e.Attempt}
			cost = max - j.LogBytes
		}
		enc, err := codec.Marshal(&e)
		if err != nil {
			return err
		}
		if err := b.Set(logKey(j.ID, j.LogSeq), enc, nil); err != nil {
			return err
		}
		j.LogSeq++
		j.LogBytes += cost
	}
	return nil
}

// readLogs returns job j's log entries in order.
func readLogs(r pebble.Reader, j id.Job) ([]LogEntry, error) {
	lo := append([]byte(nsLog), j[:]...)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: kv.PrefixEnd(lo)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	out := []LogEntry{}
	for it.First(); it.Valid(); it.Next() {
		var e LogEntry
		if err := codec.Unmarshal(it.Value(), &e); err != nil {
			return nil, fmt.Errorf("job %s log: %w: %v", j, ErrCorrupt, err)
		}
		out = append(out, e)
	}
	return out, it.Error()
}

// guestLogs converts the runtime's log entries of an attempt.
func guestLogs(at int64, attempt uint32, logs []wasm.Log) []LogEntry {
	out := make([]LogEntry, len(logs))
	for i, l := range logs {
		level := LevelInfo
		switch l.Level {
		case wasm.LevelTrace, wasm.LevelDebug:
			level = LevelDebug
		case wasm.LevelWarn:
			level = LevelWarn
		}
		out[i] = LogEntry{Timestamp: at, Level: level, Source: l.Source, Message: l.Message, Attempt: attempt}
	}
	return out
}

// note is a scheduler log entry.
func note(at int64, attempt uint32, level, format string, args ...any) LogEntry {
	return LogEntry{Timestamp: at, Level: level, Source: SourceScheduler, Message: fmt.Sprintf(format, args...), Attempt: attempt}
}
