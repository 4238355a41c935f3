package job

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/onvm-network/onvm/internal/codec"
	"github.com/onvm-network/onvm/internal/id"
)

// load reads job j's record.
func load(r pebble.Reader, j id.Job) (*Job, bool, error) {
	v, closer, err := r.Get(recordKey(j))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read job %s: %w", j, err)
	}
	defer closer.Close()
	var rec Job
	if err := codec.Unmarshal(v, &rec); err != nil {
		return nil, false, fmt.Errorf("job %s: %w: %v", j, ErrCorrupt, err)
	}
	if rec.ID != j || !rec.Status.Valid() {
		return nil, false, fmt.Errorf("job %s: %w: record of %s, status %d", j, ErrCorrupt, rec.ID, rec.Status)
	}
	return &rec, true, nil
}

// stage writes next, the new state of the job whose stored state is prev
// (nil for a new job), into b with the index changes it implies. A
// pending next must have QueueAt set.
func stage(b *pebble.Batch, prev, next *Job) error {
	if len(next.Metadata) == 0 {
		next.Metadata = nil
	}
	if next.Status != Pending {
		next.QueueAt = 0
	} else if next.QueueAt == 0 {
		return fmt.Errorf("stage job %s: pending without a queue time", next.ID)
	}
	enc, err := codec.Marshal(next)
	if err != nil {
		return fmt.Errorf("encode job %s: %w", next.ID, err)
	}
	j := next.ID
	if err := b.Set(recordKey(j), enc, nil); err != nil {
		return err
	}
	if prev == nil {
		if err := b.Set(createdKey(next.CreatedAt, j), nil, nil); err != nil {
			return err
		}
		if err := b.Set(programKey(next.Program, next.CreatedAt, j), nil, nil); err != nil {
			return err
		}
	}
	if prev == nil || prev.Status != next.Status {
		if prev != nil {
			if err := b.Delete(statusKey(prev.Status, prev.CreatedAt, j), nil); err != nil {
				return err
			}
		}
		if err := b.Set(statusKey(next.Status, next.CreatedAt, j), nil, nil); err != nil {
			return err
		}
	}
	if prev != nil && prev.Status == Pending && (next.Status != Pending || prev.QueueAt != next.QueueAt) {
		if err := b.Delete(queueKey(prev.QueueAt, j), nil); err != nil {
			return err
		}
	}
	if next.Status == Pending {
		if err := b.Set(queueKey(next.QueueAt, j), nil, nil); err != nil {
			return err
		}
	}
	return nil
}

// getValue reads one key's value.
func getValue(r pebble.Reader, k []byte) ([]byte, bool, error) {
	v, closer, err := r.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer closer.Close()
	return bytes.Clone(v), true, nil
}
