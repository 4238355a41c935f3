package config

import (
	"fmt"
	"strings"
)

// Template returns a commented config.toml that sets every key to its value
// in c; `onvm init` writes Template(Default()).
func Template(c Config) string {
	var b strings.Builder
	b.WriteString("# ONVM node configuration. Every key is shown with its default.\n")
	b.WriteString("# Precedence: command-line flags > ONVM_* environment > this file > defaults.\n")
	b.WriteString("# Reference: docs/config.md. Unknown keys are an error.\n")
	section := ""
	for _, f := range fields(&c) {
		if f.Section != section {
			section = f.Section
			fmt.Fprintf(&b, "\n# %s\n[%s]\n", f.SectionDoc, f.Section)
		}
		for _, line := range wrap(f.Doc, 76) {
			fmt.Fprintf(&b, "# %s\n", line)
		}
		if len(f.Env) > 0 {
			fmt.Fprintf(&b, "# Environment: %s\n", strings.Join(f.Env, ", "))
		}
		fmt.Fprintf(&b, "%s = %s\n", f.Key, f.tomlValue())
	}
	return b.String()
}

// Markdown returns docs/config.md, generated from the Config struct and the
// defaults.
func Markdown() string {
	c := Default()
	var b strings.Builder
	b.WriteString("# config.toml reference\n\n")
	b.WriteString("<!-- Generated from internal/config by `go test ./internal/config -update`. Do not edit. -->\n\n")
	b.WriteString("`onvm init` writes `<data-dir>/config.toml` with every key set to its default and commented. ")
	b.WriteString("`onvm run-node` reads it from `--config` (default `config.toml`, relative to the data directory); ")
	b.WriteString("a missing default file means all defaults. Decoding is strict: an unknown key is an error that names it.\n\n")
	b.WriteString("Precedence: command-line flags > `ONVM_*` environment variables > `config.toml` > defaults. ")
	b.WriteString("List values in environment variables are comma-separated; durations use Go syntax (`30s`, `2m`).\n")
	section := ""
	for _, f := range fields(&c) {
		if f.Section != section {
			section = f.Section
			fmt.Fprintf(&b, "\n## [%s]\n\n%s\n\n", f.Section, f.SectionDoc)
			b.WriteString("| key | default | environment | meaning |\n|---|---|---|---|\n")
		}
		env := make([]string, len(f.Env))
		for i, e := range f.Env {
			env[i] = "`" + e + "`"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", f.Key, f.tomlValue(), strings.Join(env, ", "),
			strings.ReplaceAll(f.Doc, "|", `\|`))
	}
	return b.String()
}

// wrap splits s into lines of at most width runes at spaces.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for w := range strings.FieldsSeq(s) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = w
			continue
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
