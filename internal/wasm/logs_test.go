package wasm

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestStreamLines(t *testing.T) {
	s := newCallState(&Call{Fuel: 1 << 30})
	w := &s.stdout
	for _, chunk := range []string{"one\ntw", "o\n\nthree", strings.Repeat("x", maxLogLine+10) + "\nlast"} {
		if n, err := w.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	w.Write([]byte("\xff"))
	got := s.flushLogs()
	var msgs []string
	for _, l := range got {
		msgs = append(msgs, l.Message)
	}
	want := []string{"one", "two", "", "three" + strings.Repeat("x", maxLogLine-5), strings.Repeat("x", 15), "last\uFFFD"}
	if diff := cmp.Diff(want, msgs); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}

func TestLogBound(t *testing.T) {
	var l logSink
	msg := []byte(strings.Repeat("m", 1000))
	for i := 0; i < 1000; i++ {
		l.add(SourceGuest, LevelInfo, msg)
	}
	last := l.entries[len(l.entries)-1]
	if last.Source != SourceHost || last.Message != "log truncated" {
		t.Errorf("last entry = %+v", last)
	}
	if l.size > MaxLogBytes {
		t.Errorf("kept %d bytes, limit %d", l.size, MaxLogBytes)
	}
	if n := len(l.entries); n != MaxLogBytes/(1000+logEntryOverhead)+1 {
		t.Errorf("%d entries", n)
	}
}

func TestGuestMessage(t *testing.T) {
	s := newCallState(&Call{Fuel: 1 << 30})
	s.stderr.Write([]byte("goroutine 1 [running]:\npanic: guest gave up\n\nmain.crash()\n"))
	s.flushLogs()
	if got := s.guestMessage(); got != "panic: guest gave up" {
		t.Errorf("guestMessage = %q", got)
	}
}
