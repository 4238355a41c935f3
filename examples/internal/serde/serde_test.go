package serde

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"
	"unicode/utf8"
)

func TestAppendFloat(t *testing.T) {
	// Expected strings are what serde_json (ryu) prints for these f64s.
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{1, "1.0"},
		{-2, "-2.0"},
		{0.1, "0.1"},
		{4.25, "4.25"},
		{15.75, "15.75"},
		{49.25 / 3, "16.416666666666668"},
		{1e15, "1000000000000000.0"},
		{9007199254740992, "9007199254740992.0"},
		{1e16, "1e16"},
		{1.5e16, "1.5e16"},
		{12345678901234567, "1.2345678901234568e16"},
		{1e21, "1e21"},
		{0.0001, "0.0001"},
		{0.00001, "0.00001"},
		{0.000001, "1e-6"},
		{1.5e-7, "1.5e-7"},
		{12345.678, "12345.678"},
		{5e-324, "5e-324"},
		{math.MaxFloat64, "1.7976931348623157e308"},
		{math.NaN(), "null"},
		{math.Inf(1), "null"},
	}
	for _, tt := range tests {
		if got := string(AppendFloat(nil, tt.f)); got != tt.want {
			t.Errorf("AppendFloat(%v) = %s, want %s", tt.f, got, tt.want)
		}
	}
}

func FuzzAppendFloatRoundTrip(f *testing.F) {
	f.Add(uint64(0x3ff0000000000000))
	f.Add(uint64(0x0000000000000001))
	f.Fuzz(func(t *testing.T, bits uint64) {
		x := math.Float64frombits(bits)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return
		}
		s := string(AppendFloat(nil, x))
		y, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Float64bits(y) != bits {
			t.Fatalf("%v printed as %s parses to %v, %v", x, s, y, err)
		}
		if want := strconv.FormatFloat(x, 'g', -1, 64); len(digitsOf(s)) != len(digitsOf(want)) {
			t.Fatalf("%s not shortest (strconv: %s)", s, want)
		}
	})
}

// digitsOf returns the significant digits of a formatted float.
func digitsOf(s string) string {
	var d []byte
	for i := 0; i < len(s) && s[i] != 'e' && s[i] != 'E'; i++ {
		if '0' <= s[i] && s[i] <= '9' {
			d = append(d, s[i])
		}
	}
	for len(d) > 1 && d[0] == '0' {
		d = d[1:]
	}
	for len(d) > 1 && d[len(d)-1] == '0' {
		d = d[:len(d)-1]
	}
	return string(d)
}

func TestAppendString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{`q"b\`, `"q\"b\\"`},
		{"\b\f\n\r\t\x00\x1f\x7f", `"\b\f\n\r\t\u0000\u001f` + "\x7f\""},
		{"<a&b>", `"<a&b>"`},
		{"é\u2028", "\"é\u2028\""},
	}
	for _, tt := range tests {
		if got := string(AppendString(nil, tt.in)); got != tt.want {
			t.Errorf("AppendString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestObj(t *testing.T) {
	var o Obj
	got := string(o.Str("status", "okput").Uint("size", 15).Float("mean", 1).Null("x").Raw("a", []byte("[1]")).Bytes())
	if want := `{"status":"okput","size":15,"mean":1.0,"x":null,"a":[1]}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	var empty Obj
	if got := string(empty.Bytes()); got != "{}" {
		t.Errorf("empty = %s", got)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string // "" for success
	}{
		{`{"op":"put","key":"a","n":[1,-2.5e3,0,{"x":null}],"t":true,"f":false}`, ""},
		{` "a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00" `, ""},
		{``, "EOF while parsing a value at line 1 column 0"},
		{`x`, "expected value at line 1 column 1"},
		{`{} x`, "trailing characters at line 1 column 4"},
		{`{"a":1,}`, "trailing comma at line 1 column 8"},
		{`[1,]`, "trailing comma at line 1 column 4"},
		{`{"a" 1}`, "expected `:` at line 1 column 6"},
		{`{"a":1 "b":2}`, "expected `,` or `}` at line 1 column 8"},
		{`[1 2]`, "expected `,` or `]` at line 1 column 4"},
		{`{1:2}`, "key must be a string at line 1 column 2"},
		{`{"a":`, "EOF while parsing a value at line 1 column 5"},
		{`{"a":1`, "EOF while parsing an object at line 1 column 6"},
		{`[1`, "EOF while parsing a list at line 1 column 2"},
		{`"abc`, "EOF while parsing a string at line 1 column 4"},
		{"\"a\nb\"", "control character (\\u0000-\\u001F) found while parsing a string at line 2 column 0"},
		{`"\x"`, "invalid escape at line 1 column 3"},
		{`"\ud800"`, "unexpected end of hex escape at line 1 column 8"},
		{`"\udc00"`, "lone leading surrogate in hex escape at line 1 column 7"},
		{"\"\xff\"", "invalid unicode code point at line 1 column 3"},
		{`01`, "invalid number at line 1 column 2"},
		{`-`, "EOF while parsing a value at line 1 column 1"},
		{`1.`, "EOF while parsing a value at line 1 column 2"},
		{`1.e5`, "invalid number at line 1 column 3"},
		{`1e400`, "number out of range at line 1 column 5"},
		{`tru`, "EOF while parsing a value at line 1 column 3"},
		{`nul!`, "expected ident at line 1 column 4"},
		{"\n\n  x", "expected value at line 3 column 3"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.in))
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.wantErr {
			t.Errorf("Parse(%q) error = %q, want %q", tt.in, got, tt.wantErr)
		}
	}
	v, err := Parse([]byte(`"\u00e9\ud83d\ude00"`))
	if err != nil || v.Text != "é😀" {
		t.Errorf("escapes decode to %q, %v", v.Text, err)
	}
	deep := make([]byte, 0, 300)
	for range 129 {
		deep = append(deep, '[')
	}
	if _, err := Parse(deep); err == nil || err.Error() != "recursion limit exceeded at line 1 column 129" {
		t.Errorf("deep nesting: %v", err)
	}
}

func TestTypedAccess(t *testing.T) {
	v, err := Parse([]byte(`{"s":"x","n":5,"neg":-1,"f":1.5,"big":4294967296,"b":true,"nul":null,"arr":[],"obj":{},"d":1,"d":2}`))
	if err != nil {
		t.Fatal(err)
	}
	f, err := AsFields(v, "struct T")
	if err != nil {
		t.Fatal(err)
	}
	get := func(name string) Value {
		x, err := f.Required(name)
		if err != nil {
			t.Fatalf("Required(%s): %v", name, err)
		}
		return x
	}
	errOf := func(_ any, err error) string {
		if err == nil {
			return ""
		}
		return err.Error()
	}
	tests := []struct{ got, want string }{
		{errOf(get("s").Str()), ""},
		{errOf(get("n").Str()), "invalid type: integer `5`, expected a string"},
		{errOf(get("nul").Str()), "invalid type: null, expected a string"},
		{errOf(get("arr").Str()), "invalid type: sequence, expected a string"},
		{errOf(get("obj").Str()), "invalid type: map, expected a string"},
		{errOf(get("b").Str()), "invalid type: boolean `true`, expected a string"},
		{errOf(get("n").Uint32()), ""},
		{errOf(get("neg").Uint32()), "invalid value: integer `-1`, expected u32"},
		{errOf(get("big").Uint32()), "invalid value: integer `4294967296`, expected u32"},
		{errOf(get("f").Uint32()), "invalid type: floating point `1.5`, expected u32"},
		{errOf(get("s").Uint32()), `invalid type: string "x", expected u32`},
		{errOf(get("n").Float64()), ""},
		{errOf(get("s").Float64()), `invalid type: string "x", expected f64`},
		{errOf(get("b").Boolean()), ""},
		{errOf(get("nul").Boolean()), "invalid type: null, expected a boolean"},
		{errOf(f.Required("missing")), "missing field `missing`"},
		{errOf(f.Required("d")), "duplicate field `d`"},
		{errOf(AsFields(get("arr"), "struct T")), "invalid type: sequence, expected struct T"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: error %q, want %q", i, tt.got, tt.want)
		}
	}
	if _, ok, err := f.Optional("nul"); ok || err != nil {
		t.Errorf("Optional(null) = %v, %v; want absent", ok, err)
	}
}

func TestUtf8Error(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"hello é", ""},
		{"\xff", "invalid utf-8 sequence of 1 bytes from index 0"},
		{"ab\xe2\x82A", "invalid utf-8 sequence of 2 bytes from index 2"},
		{"\xf0\x9f\x98", "incomplete utf-8 byte sequence from index 0"},
		{"\xed\xa0\x80", "invalid utf-8 sequence of 1 bytes from index 0"},
		{"\xc0\x80", "invalid utf-8 sequence of 1 bytes from index 0"},
		{"\xf0\x9f\x98A", "invalid utf-8 sequence of 3 bytes from index 0"},
	}
	for _, tt := range tests {
		if got := Utf8Error([]byte(tt.in)); got != tt.want {
			t.Errorf("Utf8Error(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzUtf8Error(f *testing.F) {
	f.Add([]byte("\xe2\x82A"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if (Utf8Error(b) == "") != utf8.Valid(b) {
			t.Fatalf("Utf8Error(%x) = %q, utf8.Valid = %v", b, Utf8Error(b), utf8.Valid(b))
		}
	})
}

// FuzzParse checks that no input panics the parser and that everything it
// accepts is JSON by encoding/json's standard too.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"op":"put","key":"alpha","data_base64":"SGVsbG8sIEtWU1RPUkUh"}`))
	f.Add([]byte(`{"text":"a b","numbers":[1.0,2.5e-3],"include_compressed":true}`))
	f.Add([]byte(`"\ud83d\ude00"`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := Parse(b); err == nil && !json.Valid(b) {
			t.Fatalf("Parse accepted %q, encoding/json rejects it", b)
		}
	})
}
