// Package serde reads and writes JSON the way the original sample programs
// did with Rust's serde_json, so that the Go samples emit byte-identical
// outputs: compact objects in field order, serde_json's string escaping
// (only '"', '\\' and control characters; no HTML escaping), and f64 in
// ryu's shortest form ("1.0", "4.25", "1e-7", "1.5e300").
//
// Parsing is as strict as serde_json: case-sensitive keys, no trailing
// commas or characters, valid UTF-8 and no lone surrogates, null is not a
// string, integers checked against their type, a nesting limit of 128. Error
// messages follow serde_json's wording, without its line/column suffix on
// type errors.
//
// It exists because encoding/json adds ~600 KB to every wasip1 module and
// differs from serde_json in both directions. It must stay free of package
// init work and of fmt, and is for the sample programs only.
package serde
