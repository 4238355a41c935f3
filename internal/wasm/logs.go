package wasm

import (
	"bytes"
	"strings"
)

// logSink collects a call's log entries in order, keeping at most
// MaxLogBytes (message bytes plus 16 per entry). The first entry that does
// not fit is replaced by one SourceHost note and everything after it is
// dropped; the guest still pays for every byte it logs.
type logSink struct {
	entries   []Log
	size      int
	truncated bool
}

const logEntryOverhead = 16

func (l *logSink) add(source string, level LogLevel, msg []byte) {
	if l.truncated {
		return
	}
	if l.size+len(msg)+logEntryOverhead > MaxLogBytes {
		l.truncated = true
		l.entries = append(l.entries, Log{Source: SourceHost, Level: LevelWarn, Message: "log truncated"})
		return
	}
	l.size += len(msg) + logEntryOverhead
	l.entries = append(l.entries, Log{Source: source, Level: level, Message: strings.ToValidUTF8(string(msg), "\uFFFD")})
}

// stream is a WASI output (stdout or stderr) captured into the sink one line
// at a time; the trailing newline is not part of the message.
type stream struct {
	s       *callState
	source  string
	level   LogLevel
	partial []byte
	last    []byte // the last line, for trap messages
	panic   []byte // the first line that starts like a Go or Rust panic, for trap messages
}

// panicPrefixes start the line a runtime prints when a guest panics.
var panicPrefixes = [][]byte{[]byte("panic: "), []byte("fatal error: "), []byte("thread 'main' panicked")}

// Write implements io.Writer for wazero's fd_write. It charges bytesCost(len(p))
// and CostLogEntry per line.
func (w *stream) Write(p []byte) (int, error) {
	w.s.fuel.charge(bytesCost(uint64(len(p))))
	n := len(p)
	for len(p) > 0 {
		seg, rest, newline := bytes.Cut(p, []byte{'\n'})
		if room := maxLogLine - len(w.partial); len(seg) > room {
			w.partial = append(w.partial, seg[:room]...)
			w.emit()
			p = p[room:]
			continue
		}
		w.partial = append(w.partial, seg...)
		p = rest
		if newline {
			w.emit()
		}
	}
	return n, nil
}

func (w *stream) emit() {
	w.s.fuel.charge(CostLogEntry)
	w.keep()
}

// flush emits a final unterminated line (uncharged: the call is over).
func (w *stream) flush() {
	if len(w.partial) > 0 {
		w.keep()
	}
}

func (w *stream) keep() {
	w.s.logs.add(w.source, w.level, w.partial)
	w.last = append(w.last[:0], w.partial...)
	if w.panic == nil {
		for _, p := range panicPrefixes {
			if bytes.HasPrefix(w.partial, p) {
				w.panic = append([]byte{}, w.partial...)
			}
		}
	}
	w.partial = w.partial[:0]
}
