// Package config loads, validates and shows oncall's YAML configuration.
// Every error names file, line and column and what was expected; unknown
// keys are errors. ${VAR} and ${VAR:-default} expand from the environment
// in values; *_file fields read secrets from files. Secrets are of type
// Secret, which never prints its value.
//
// It imports sources for the conventions type and nothing above it.
package config
