// Package config is dr.yaml: its schema, its defaults, the DR_* environment
// overrides and the validation that names the key and the line of every
// problem.
//
// Loading runs in a fixed order: the YAML is parsed to a node tree and
// walked against the Go types (unknown keys, with a did-you-mean, and wrong
// types are found here, with lines); the tree is decoded over Default();
// each scalar key is then overridden by its DR_<KEY_PATH> environment
// variable when that is set (EnvName gives the name); last, values are
// validated (required keys, ranges, cron expressions, time zone, paths).
// All problems found are returned together as Errors, a list of *Error, so
// an operator fixes the file in one go; errors.As with *Error works on it.
//
// Lists (destinations, volumes, recipients, notify) cannot be overridden
// from the environment: a variable could not say which element it means.
//
// Example holds the annotated dr.yaml docs/configuration.md shows; a test keeps its
// values equal to Default so the documentation cannot drift.
//
// This package reads only the file it is given; it opens no connection and
// loads no secret (token_file and recipients_file are paths used elsewhere).
package config
