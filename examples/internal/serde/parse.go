package serde

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind is the type of a JSON value.
type Kind uint8

// JSON value kinds.
const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

// Value is a parsed JSON value.
type Value struct {
	Kind    Kind
	Bool    bool
	Text    string // the string of a String, the literal of a Number
	Items   []Value
	Members []Member // in document order, duplicates kept
}

// Member is one key of an object.
type Member struct {
	Key   string
	Value Value
}

// SyntaxError is a malformed document, reported like serde_json.
type SyntaxError struct {
	Msg          string
	Line, Column int
}

func (e *SyntaxError) Error() string {
	return e.Msg + " at line " + strconv.Itoa(e.Line) + " column " + strconv.Itoa(e.Column)
}

const maxDepth = 128 // serde_json's recursion limit

// Parse parses one JSON document.
func Parse(data []byte) (Value, error) {
	p := parser{b: data}
	v, err := p.value(0)
	if err != nil {
		return Value{}, err
	}
	p.ws()
	if p.i < len(p.b) {
		return Value{}, p.errAt("trailing characters", p.i+1)
	}
	return v, nil
}

type parser struct {
	b []byte
	i int
}

// errAt reports msg at byte offset end (exclusive), as serde_json does:
// the line and the column of the last byte read.
func (p *parser) errAt(msg string, end int) error {
	end = min(end, len(p.b))
	line, col := 1, 0
	for _, c := range p.b[:end] {
		col++
		if c == '\n' {
			line++
			col = 0
		}
	}
	return &SyntaxError{Msg: msg, Line: line, Column: col}
}

func (p *parser) eof(what string) error { return p.errAt("EOF while parsing "+what, len(p.b)) }

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (Value, error) {
	p.ws()
	if p.i >= len(p.b) {
		return Value{}, p.eof("a value")
	}
	switch c := p.b[p.i]; {
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return Value{}, p.errAt("recursion limit exceeded", p.i+1)
		}
		if c == '{' {
			return p.object(depth + 1)
		}
		return p.array(depth + 1)
	case c == '"':
		s, err := p.str()
		return Value{Kind: String, Text: s}, err
	case c == '-' || '0' <= c && c <= '9':
		return p.number()
	case c == 't':
		return Value{Kind: Bool, Bool: true}, p.ident("true")
	case c == 'f':
		return Value{Kind: Bool}, p.ident("false")
	case c == 'n':
		return Value{Kind: Null}, p.ident("null")
	default:
		return Value{}, p.errAt("expected value", p.i+1)
	}
}

func (p *parser) ident(word string) error {
	for k := 0; k < len(word); k++ {
		if p.i >= len(p.b) {
			return p.eof("a value")
		}
		if p.b[p.i] != word[k] {
			return p.errAt("expected ident", p.i+1)
		}
		p.i++
	}
	return nil
}

func (p *parser) object(depth int) (Value, error) {
	p.i++ // '{'
	v := Value{Kind: Object}
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return v, nil
	}
	for {
		p.ws()
		if p.i >= len(p.b) {
			return Value{}, p.eof("an object")
		}
		if p.b[p.i] != '"' {
			if p.b[p.i] == '}' {
				return Value{}, p.errAt("trailing comma", p.i+1)
			}
			return Value{}, p.errAt("key must be a string", p.i+1)
		}
		key, err := p.str()
		if err != nil {
			return Value{}, err
		}
		p.ws()
		if p.i >= len(p.b) {
			return Value{}, p.eof("an object")
		}
		if p.b[p.i] != ':' {
			return Value{}, p.errAt("expected `:`", p.i+1)
		}
		p.i++
		val, err := p.value(depth)
		if err != nil {
			return Value{}, err
		}
		v.Members = append(v.Members, Member{Key: key, Value: val})
		p.ws()
		if p.i >= len(p.b) {
			return Value{}, p.eof("an object")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return v, nil
		default:
			return Value{}, p.errAt("expected `,` or `}`", p.i+1)
		}
	}
}

func (p *parser) array(depth int) (Value, error) {
	p.i++ // '['
	v := Value{Kind: Array}
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return v, nil
	}
	for {
		p.ws()
		if p.i < len(p.b) && p.b[p.i] == ']' {
			return Value{}, p.errAt("trailing comma", p.i+1)
		}
		item, err := p.value(depth)
		if err != nil {
			return Value{}, err
		}
		v.Items = append(v.Items, item)
		p.ws()
		if p.i >= len(p.b) {
			return Value{}, p.eof("a list")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return v, nil
		default:
			return Value{}, p.errAt("expected `,` or `]`", p.i+1)
		}
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func (p *parser) number() (Value, error) {
	start := p.i
	if p.b[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.b) && isDigit(p.b[p.i]) {
			p.i++
			n++
		}
		return n
	}
	if p.i >= len(p.b) {
		return Value{}, p.eof("a value")
	}
	switch {
	case p.b[p.i] == '0':
		p.i++
		if p.i < len(p.b) && isDigit(p.b[p.i]) {
			return Value{}, p.errAt("invalid number", p.i+1)
		}
	case isDigit(p.b[p.i]):
		digits()
	default:
		return Value{}, p.errAt("invalid number", p.i+1)
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			if p.i >= len(p.b) {
				return Value{}, p.eof("a value")
			}
			return Value{}, p.errAt("invalid number", p.i+1)
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			if p.i >= len(p.b) {
				return Value{}, p.eof("a value")
			}
			return Value{}, p.errAt("invalid number", p.i+1)
		}
	}
	text := string(p.b[start:p.i])
	if isFloat(text) {
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			return Value{}, p.errAt("number out of range", p.i)
		}
	}
	return Value{Kind: Number, Text: text}, nil
}

func (p *parser) str() (string, error) {
	p.i++ // '"'
	var out []byte
	start := p.i
	for {
		if p.i >= len(p.b) {
			return "", p.eof("a string")
		}
		c := p.b[p.i]
		switch {
		case c == '"':
			out = append(out, p.b[start:p.i]...)
			p.i++
			if !utf8.Valid(out) {
				return "", p.errAt("invalid unicode code point", p.i)
			}
			return string(out), nil
		case c < 0x20:
			return "", p.errAt("control character (\\u0000-\\u001F) found while parsing a string", p.i+1)
		case c == '\\':
			out = append(out, p.b[start:p.i]...)
			var err error
			if out, err = p.escape(out); err != nil {
				return "", err
			}
			start = p.i
		default:
			p.i++
		}
	}
}

// escape decodes the escape sequence at p.i (a backslash) onto out.
func (p *parser) escape(out []byte) ([]byte, error) {
	p.i++
	if p.i >= len(p.b) {
		return nil, p.eof("a string")
	}
	c := p.b[p.i]
	p.i++
	switch c {
	case '"', '\\', '/':
		return append(out, c), nil
	case 'b':
		return append(out, '\b'), nil
	case 'f':
		return append(out, '\f'), nil
	case 'n':
		return append(out, '\n'), nil
	case 'r':
		return append(out, '\r'), nil
	case 't':
		return append(out, '\t'), nil
	case 'u':
	default:
		return nil, p.errAt("invalid escape", p.i)
	}
	r, err := p.hex4()
	if err != nil {
		return nil, err
	}
	switch {
	case 0xDC00 <= r && r <= 0xDFFF:
		return nil, p.errAt("lone leading surrogate in hex escape", p.i)
	case 0xD800 <= r && r <= 0xDBFF:
		if p.i+1 >= len(p.b) || p.b[p.i] != '\\' || p.b[p.i+1] != 'u' {
			if p.i >= len(p.b) || p.i+1 >= len(p.b) && p.b[p.i] == '\\' {
				return nil, p.eof("a string")
			}
			return nil, p.errAt("unexpected end of hex escape", p.i+1)
		}
		p.i += 2
		lo, err := p.hex4()
		if err != nil {
			return nil, err
		}
		if lo < 0xDC00 || lo > 0xDFFF {
			return nil, p.errAt("lone leading surrogate in hex escape", p.i)
		}
		r = utf16.DecodeRune(r, lo)
	}
	return utf8.AppendRune(out, r), nil
}

func (p *parser) hex4() (rune, error) {
	var r rune
	for range 4 {
		if p.i >= len(p.b) {
			return 0, p.eof("a string")
		}
		c := p.b[p.i]
		p.i++
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, p.errAt("invalid escape", p.i)
		}
	}
	return r, nil
}

// isFloat reports whether a number literal has a fraction or exponent;
// serde_json parses such literals as f64 and all others as integers.
func isFloat(lit string) bool {
	for i := 0; i < len(lit); i++ {
		if c := lit[i]; c == '.' || c == 'e' || c == 'E' {
			return true
		}
	}
	return false
}
