package cli

import "testing"

// TestLossyUTF8 pins Rust's String::from_utf8_lossy behaviour: one U+FFFD
// per maximal ill-formed subpart.
func TestLossyUTF8(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"valid", "héllo €𝄞", "héllo €𝄞"},
		{"lone continuation bytes", "a\x80\x80b", "a\uFFFD\uFFFDb"},
		{"truncated 4-byte sequence", "a\xF0\x9F\x98b", "a\uFFFDb"},
		{"truncated then invalid", "\xF0\x9F\x98\xFF", "\uFFFD\uFFFD"},
		{"overlong lead", "\xC0\xAF", "\uFFFD\uFFFD"},
		{"surrogate", "\xED\xA0\x80", "\uFFFD\uFFFD\uFFFD"},
		{"above U+10FFFF", "\xF4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},
		{"truncated at end", "ok\xE2\x82", "ok\uFFFD"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lossyUTF8([]byte(tt.in)); got != tt.want {
				t.Fatalf("lossyUTF8(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
