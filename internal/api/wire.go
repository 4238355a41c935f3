package api

import "fmt"

// text is the text form of an id, for the API's optional id fields.
func text(v fmt.Stringer) *string {
	s := v.String()
	return &s
}

// texts converts ids to their text forms; nil stays nil, so a field
// that was null stays null.
func texts[T fmt.Stringer](ids []T) []string {
	if ids == nil {
		return nil
	}
	out := make([]string, len(ids))
	for i, v := range ids {
		out[i] = v.String()
	}
	return out
}
