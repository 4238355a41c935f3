package job

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/onvm-network/onvm/internal/id"
)

func TestChangeLogSince(t *testing.T) {
	a, b, c := id.Job{1}, id.Job{2}, id.Job{3}
	var l changeLog
	if ids, next, lost := l.since(0, 10); len(ids) != 0 || next != 0 || lost {
		t.Fatalf("empty: %v %d %v", ids, next, lost)
	}
	l.add(a)
	l.add(b)
	l.add(a)
	if ids, next, lost := l.since(0, 10); !cmp.Equal(ids, []id.Job{a, b}) || next != 3 || lost {
		t.Fatalf("three changes of two jobs: %v %d %v", ids, next, lost)
	}
	l.add(c)
	if ids, next, lost := l.since(3, 10); !cmp.Equal(ids, []id.Job{c}) || next != 4 || lost {
		t.Fatalf("after 3: %v %d %v", ids, next, lost)
	}
	if ids, next, lost := l.since(0, 2); !cmp.Equal(ids, []id.Job{a, b}) || next != 4 || !lost {
		t.Fatalf("max 2: %v %d %v", ids, next, lost)
	}
	if ids, next, lost := l.since(99, 10); len(ids) != 0 || next != 4 || lost {
		t.Fatalf("a number from the future: %v %d %v", ids, next, lost)
	}
	for range changeLogSize {
		l.add(b)
	}
	if ids, next, lost := l.since(0, 10); !cmp.Equal(ids, []id.Job{b}) || next != 4+changeLogSize || !lost {
		t.Fatalf("overrun: %v %d %v", ids, next, lost)
	}
}

// TestChangesFollowAJob: a job's submission and each of its transitions
// show up in Changes.
func TestChangesFollowAJob(t *testing.T) {
	f := newFakeEnv(t, nil, nil)
	_, start, _ := f.svc.Changes(0, 10)
	j := f.submit(t, "follow")
	ids, next, lost := f.svc.Changes(start, 10)
	if !cmp.Equal(ids, []id.Job{j.ID}) || lost || next <= start {
		t.Fatalf("after submit: %v %d %v", ids, next, lost)
	}
	f.wait(t, j.ID, terminal)
	if ids, after, _ := f.svc.Changes(next, 10); !cmp.Equal(ids, []id.Job{j.ID}) || after <= next {
		t.Fatalf("after it finished: %v %d", ids, after)
	}
}
