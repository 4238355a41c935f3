package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// field is one setting: a leaf of Config reached through its section.
type field struct {
	Section    string   // TOML table, e.g. "rpc"
	SectionDoc string   // the section's doc tag
	Key        string   // TOML key within the section, e.g. "listen"
	Doc        string   // the field's doc tag
	Env        []string // environment variables that set it, first is canonical
	value      reflect.Value
}

// Name returns "section.key".
func (f field) Name() string { return f.Section + "." + f.Key }

// fields lists every setting of c in declaration order. The values are
// addressable, so set writes through to c.
func fields(c *Config) []field {
	var out []field
	root := reflect.ValueOf(c).Elem()
	rt := root.Type()
	for i := range rt.NumField() {
		sf := rt.Field(i)
		sv := root.Field(i)
		st := sf.Type
		for j := range st.NumField() {
			lf := st.Field(j)
			var env []string
			if e := lf.Tag.Get("env"); e != "" {
				env = strings.Split(e, ",")
			}
			out = append(out, field{
				Section:    sf.Tag.Get("toml"),
				SectionDoc: sf.Tag.Get("doc"),
				Key:        lf.Tag.Get("toml"),
				Doc:        lf.Tag.Get("doc"),
				Env:        env,
				value:      sv.Field(j),
			})
		}
	}
	return out
}

var durationType = reflect.TypeFor[time.Duration]()

// set parses s in the field's type and stores it. Lists are comma-separated;
// blank items are dropped.
func (f field) set(s string) error {
	v := f.value
	s = strings.TrimSpace(s)
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name(), err)
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%s: want true or false, got %q", f.Name(), s)
		}
		v.SetBool(b)
	case v.Kind() == reflect.Int || v.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%s: want an integer, got %q", f.Name(), s)
		}
		v.SetInt(n)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		list := []string{}
		for item := range strings.SplitSeq(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		v.Set(reflect.ValueOf(list))
	default:
		return fmt.Errorf("%s: unsupported type %s", f.Name(), v.Type())
	}
	return nil
}

// tomlValue renders the field's current value as a TOML value.
func (f field) tomlValue() string {
	v := f.value
	switch {
	case v.Type() == durationType:
		return strconv.Quote(time.Duration(v.Int()).String())
	case v.Kind() == reflect.String:
		return strconv.Quote(v.String())
	case v.Kind() == reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case v.Kind() == reflect.Int || v.Kind() == reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case v.Kind() == reflect.Slice:
		items := make([]string, v.Len())
		for i := range v.Len() {
			items[i] = strconv.Quote(v.Index(i).String())
		}
		return "[" + strings.Join(items, ", ") + "]"
	}
	return fmt.Sprint(v.Interface())
}
