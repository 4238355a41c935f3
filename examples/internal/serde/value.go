package serde

import (
	"errors"
	"math"
	"strconv"
)

// Unexpected describes v the way serde's invalid-type errors do.
func (v Value) Unexpected() string {
	switch v.Kind {
	case Null:
		return "null"
	case Bool:
		if v.Bool {
			return "boolean `true`"
		}
		return "boolean `false`"
	case Number:
		if f, isInt := v.number(); !isInt {
			return "floating point `" + string(appendFloat(nil, f, true)) + "`"
		}
		return "integer `" + v.Text + "`"
	case String:
		return "string " + strconv.Quote(v.Text)
	case Array:
		return "sequence"
	default:
		return "map"
	}
}

// number returns v's value and whether serde_json reads it as an integer
// (a literal without fraction or exponent that fits in i64 or u64).
func (v Value) number() (float64, bool) {
	if !isFloat(v.Text) {
		if _, err := strconv.ParseUint(v.Text, 10, 64); err == nil {
			return 0, true
		}
		if _, err := strconv.ParseInt(v.Text, 10, 64); err == nil {
			return 0, true
		}
	}
	f, _ := strconv.ParseFloat(v.Text, 64)
	return f, false
}

func invalidType(v Value, expected string) error {
	return errors.New("invalid type: " + v.Unexpected() + ", expected " + expected)
}

// Str returns the string v holds.
func (v Value) Str() (string, error) {
	if v.Kind != String {
		return "", invalidType(v, "a string")
	}
	return v.Text, nil
}

// Uint32 returns the u32 v holds.
func (v Value) Uint32() (uint32, error) {
	if v.Kind != Number {
		return 0, invalidType(v, "u32")
	}
	if _, isInt := v.number(); !isInt {
		return 0, invalidType(v, "u32")
	}
	n, err := strconv.ParseUint(v.Text, 10, 32)
	if err != nil {
		return 0, errors.New("invalid value: integer `" + v.Text + "`, expected u32")
	}
	return uint32(n), nil
}

// Float64 returns the f64 v holds (integers convert).
func (v Value) Float64() (float64, error) {
	if v.Kind != Number {
		return 0, invalidType(v, "f64")
	}
	f, err := strconv.ParseFloat(v.Text, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, errors.New("number out of range")
	}
	return f, nil
}

// Boolean returns the bool v holds.
func (v Value) Boolean() (bool, error) {
	if v.Kind != Bool {
		return false, invalidType(v, "a boolean")
	}
	return v.Bool, nil
}

// Fields is an object being read as a Rust struct: it finds the fields a
// struct declares and ignores the others, as serde does by default.
type Fields struct{ members []Member }

// AsFields returns v's members for struct-like reading; expected names the
// struct in the error for a non-object ("struct Input").
func AsFields(v Value, expected string) (Fields, error) {
	switch v.Kind {
	case Object:
		return Fields{members: v.Members}, nil
	default:
		return Fields{}, invalidType(v, expected)
	}
}

// Get returns the field named name. It is an error for a declared field to
// appear twice ("duplicate field `name`").
func (f Fields) Get(name string) (Value, bool, error) {
	var found Value
	ok := false
	for _, m := range f.members {
		if m.Key != name {
			continue
		}
		if ok {
			return Value{}, false, errors.New("duplicate field `" + name + "`")
		}
		found, ok = m.Value, true
	}
	return found, ok, nil
}

// Required returns the field named name or "missing field `name`".
func (f Fields) Required(name string) (Value, error) {
	v, ok, err := f.Get(name)
	if err != nil {
		return Value{}, err
	}
	if !ok {
		return Value{}, errors.New("missing field `" + name + "`")
	}
	return v, nil
}

// Optional returns the field named name, treating null like absence, as
// serde does for Option fields.
func (f Fields) Optional(name string) (Value, bool, error) {
	v, ok, err := f.Get(name)
	if err != nil || !ok || v.Kind == Null {
		return Value{}, false, err
	}
	return v, true, nil
}
