package problem

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FromYAML turns yaml's "yaml: line 3: …" into file:3: ….
func FromYAML(file string, err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
	var line int
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ":"); ok {
			if v, err := strconv.Atoi(n); err == nil {
				line, msg = v, strings.TrimSpace(after)
			}
		}
	}
	return Problem{File: file, Line: line, Msg: msg}
}

// ItemLines gives the line of each item of the sequence under key in a
// mapping: where each runbook action or experiment check was written.
func ItemLines(doc *yaml.Node, key string) []int {
	if doc.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value == key && doc.Content[i+1].Kind == yaml.SequenceNode {
			var out []int
			for _, it := range doc.Content[i+1].Content {
				out = append(out, it.Line)
			}
			return out
		}
	}
	return nil
}
