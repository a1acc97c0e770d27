package remediate

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
)

// Bounds of a template's work: a runbook's template renders a name, a
// number or a request body, never megabytes, and never loops.
const (
	// maxRendered is the most one template may write.
	maxRendered = 64 << 10
	// maxFormatWidth is the widest width or precision printf may pad to.
	maxFormatWidth = 1024
)

// checkTemplate parses a template to report its syntax errors at load.
func checkTemplate(t string) error {
	if !strings.Contains(t, "{{") {
		return nil
	}
	_, err := newTemplate(t)
	return err
}

// newTemplate parses a runbook template. Loops (range), named templates
// (define, template, block) and their recursion are refused: with those
// gone, printf bounded and the output capped, rendering always ends soon.
func newTemplate(t string) (*template.Template, error) {
	tp, err := template.New("v").Option("missingkey=error").Funcs(boundedFuncs).Funcs(templateFuncs).Parse(t)
	if err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "template: v:"))
	}
	if len(tp.Templates()) > 1 {
		return nil, errors.New(" define and block are not allowed in a runbook template")
	}
	var bad error
	walk(tp.Tree.Root, false, func(n parse.Node, _ bool) {
		switch n := n.(type) {
		case *parse.CommandNode:
			// a secret is named in the runbook: data choosing which secret
			// to send would send any of the environment's
			if len(n.Args) > 0 && n.Args[0].String() == "secret" {
				if _, ok := n.Args[len(n.Args)-1].(*parse.StringNode); len(n.Args) != 2 || !ok {
					bad = errors.New(` secret takes the variable's name as a literal string: {{secret "NAME"}}`)
				}
			}
			// a printf with a fixed format is checked at load
			if len(n.Args) > 1 && n.Args[0].String() == "printf" {
				if f, ok := n.Args[1].(*parse.StringNode); ok {
					if err := checkFormat(f.Text); err != nil {
						bad = errors.New(" " + err.Error())
					}
				}
			}
		case *parse.RangeNode:
			bad = errors.New(" range is not allowed in a runbook template: a template renders one value")
		case *parse.TemplateNode:
			bad = errors.New(" template is not allowed in a runbook template")
		}
	})
	return tp, bad
}

// templateRefs lists the fields a template reads from its data, each as
// a path from the top: ["Labels", "instance"], ["Inputs", "host"]. A path
// read where the dot is not the top (inside with) starts with "."; the
// top itself is the empty path.
func templateRefs(t string) ([][]string, error) {
	if !strings.Contains(t, "{{") {
		return nil, nil
	}
	tp, err := newTemplate(t)
	if err != nil {
		return nil, err
	}
	var out [][]string
	walk(tp.Tree.Root, false, func(n parse.Node, moved bool) {
		var path []string
		switch n := n.(type) {
		case *parse.FieldNode:
			path = n.Ident
		case *parse.DotNode:
			path = []string{}
		case *parse.VariableNode:
			switch {
			case n.Ident[0] == "$":
				out = append(out, n.Ident[1:])
			case len(n.Ident) > 1:
				// a field of what a variable holds cannot be told from here
				out = append(out, []string{"(" + n.Ident[0] + ")"})
			}
			// a variable alone holds what its declaration read, and that was walked
			return
		case *parse.ChainNode:
			path = []string{"(chain)"}
		default:
			return
		}
		if moved {
			path = append([]string{"."}, path...)
		}
		out = append(out, path)
	})
	return out, nil
}

// walk visits every node; moved says whether the dot there is no longer
// the top (inside with).
func walk(n parse.Node, moved bool, visit func(parse.Node, bool)) {
	if n == nil {
		return
	}
	visit(n, moved)
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			walkEach(n.Nodes, moved, visit)
		}
	case *parse.ActionNode:
		walk(n.Pipe, moved, visit)
	case *parse.PipeNode:
		if n != nil {
			walkEach(n.Cmds, moved, visit)
		}
	case *parse.CommandNode:
		walkEach(n.Args, moved, visit)
	case *parse.ChainNode:
		walk(n.Node, moved, visit)
	case *parse.IfNode:
		walkBranch(&n.BranchNode, moved, moved, visit)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, true, moved, visit)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, true, moved, visit)
	case *parse.TemplateNode:
		walk(n.Pipe, moved, visit)
	}
}

// walkEach walks the nodes of a list, a pipeline's commands or a
// command's arguments, in order.
func walkEach[N parse.Node](nodes []N, moved bool, visit func(parse.Node, bool)) {
	for _, c := range nodes {
		walk(c, moved, visit)
	}
}

func walkBranch(b *parse.BranchNode, bodyMoved, moved bool, visit func(parse.Node, bool)) {
	walk(b.Pipe, moved, visit)
	if b.List != nil {
		walk(b.List, bodyMoved, visit)
	}
	if b.ElseList != nil {
		walk(b.ElseList, moved, visit)
	}
}

// formatVerb finds printf's width and precision: %-08.3f, %[2]5d.
var formatVerb = regexp.MustCompile(`%(?:\[\d+\])?[-+# 0]*(\d+)?(?:\.(?:\[\d+\])?(\d+)?)?`)

// boundedPrintf is printf that refuses a width or precision that would
// pad a value to megabytes, or one taken from the data (*).
func boundedPrintf(format string, a ...any) (string, error) {
	if err := checkFormat(format); err != nil {
		return "", err
	}
	return capped(fmt.Sprintf(format, a...))
}

// capped refuses what a function would return past maxRendered: values a
// template builds in variables count too, before anything is written.
func capped(s string) (string, error) {
	if len(s) > maxRendered {
		return "", errTooLong
	}
	return s, nil
}

// boundedFuncs replace text/template's builtins that build strings with
// capped ones.
var boundedFuncs = template.FuncMap{
	"printf":   boundedPrintf,
	"print":    func(a ...any) (string, error) { return capped(fmt.Sprint(a...)) },
	"println":  func(a ...any) (string, error) { return capped(fmt.Sprintln(a...)) },
	"urlquery": func(a ...any) (string, error) { return capped(template.URLQueryEscaper(a...)) },
	"html":     func(a ...any) (string, error) { return capped(template.HTMLEscaper(a...)) },
	"js":       func(a ...any) (string, error) { return capped(template.JSEscaper(a...)) },
}

func checkFormat(format string) error {
	if strings.Contains(strings.ReplaceAll(format, "%%", ""), "*") {
		return fmt.Errorf("printf %q: a width from the arguments (*) is not allowed", format)
	}
	for _, m := range formatVerb.FindAllStringSubmatch(format, -1) {
		for _, w := range m[1:] {
			if n, err := strconv.Atoi(w); w != "" && (err != nil || n > maxFormatWidth) {
				return fmt.Errorf("printf %q: a width or precision above %d is not allowed", format, maxFormatWidth)
			}
		}
	}
	return nil
}

// cappedWriter stops a template that writes more than maxRendered.
type cappedWriter struct {
	b strings.Builder
}

var errTooLong = fmt.Errorf("renders more than %d KiB", maxRendered>>10)

func (w *cappedWriter) Write(p []byte) (int, error) {
	if w.b.Len()+len(p) > maxRendered {
		return 0, errTooLong
	}
	return w.b.Write(p)
}
