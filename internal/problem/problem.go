// Package problem is what is wrong with a file oncall reads (a config, an
// SLO file, a runbook), at its position, so that every validator reports
// alike: file:line:column: message. It imports nothing of this module.
package problem

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a file. Line is 0 when the problem is
// the whole file's; Column is 0 when only the line is known.
type Problem struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column,omitempty"`
	Msg    string `json:"message"`
}

// Error writes file:line:column: msg, leaving out what is not known.
func (p Problem) Error() string {
	switch {
	case p.Line == 0:
		return p.File + ": " + p.Msg
	case p.Column == 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Column, p.Msg)
}

// Problems is every problem found, one per line when printed.
type Problems []Problem

// Error writes one problem a line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}
