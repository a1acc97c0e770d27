package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/oncall-cockpit/oncall/internal/problem"
	"github.com/oncall-cockpit/oncall/internal/suggest"
	"github.com/oncall-cockpit/oncall/sources"
)

// Locate returns the config path: the flag, else $ONCALL_CONFIG, else
// $XDG_CONFIG_HOME/oncall/config.yaml (~/.config when unset). explicit is
// true when the user named the file, so its absence is an error.
func Locate(flag string, getenv func(string) string) (path string, explicit bool) {
	if flag != "" {
		return flag, true
	}
	if p := getenv("ONCALL_CONFIG"); p != "" {
		return p, true
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			return "", false
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "oncall", "config.yaml"), false
}

// UseContext switches cfg to a context: its datasources replace the
// top-level ones. "" keeps the top-level datasources; an unknown name is
// an error that names the contexts there are.
func (c *Config) UseContext(name string) error {
	if name == "" {
		return nil
	}
	ctx, ok := c.Contexts[name]
	if !ok {
		names := c.ContextNames()
		if len(names) == 0 {
			return fmt.Errorf("context %q: the config has no contexts", name)
		}
		return fmt.Errorf("context %q: not one of %s%s", name, strings.Join(names, ", "), suggest.DidYouMean(name, names))
	}
	c.Context, c.Datasources = name, ctx.Datasources
	if ctx.Grafana != nil {
		c.Grafana = *ctx.Grafana
	}
	return nil
}

// ContextNames lists the contexts, sorted.
func (c *Config) ContextNames() []string {
	names := make([]string, 0, len(c.Contexts))
	for n := range c.Contexts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Default is the configuration with no file: no datasources, default conventions.
func Default() *Config {
	return &Config{Conventions: sources.DefaultConventions(), Currency: "USD"}
}

// Load reads and validates the file at path. A missing file that the user
// did not name yields Default(). getenv expands ${VAR}.
func Load(path string, explicit bool, getenv func(string) (string, bool)) (*Config, error) {
	if path == "" {
		return Default(), nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return Default(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, b, getenv)
}

// Parse validates and decodes a config file's bytes; name is used in errors
// and to resolve relative *_file paths.
func Parse(name string, b []byte, getenv func(string) (string, bool)) (*Config, error) {
	v := &validator{file: name, dir: filepath.Dir(name), pos: map[string]*yaml.Node{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, problem.Problems{v.syntaxProblem(err)}
	}
	cfg := Default()
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return cfg, nil // an empty file is the default config
	}
	root := doc.Content[0]
	v.expandEnv(root, getenv)
	// every problem at once: the walk blanks what it cannot decode, so the
	// checks of meaning below still run on the rest
	v.walk(root, typeOf(cfg), "")
	if err := root.Decode(cfg); err != nil {
		if len(v.problems) > 0 {
			return nil, v.sorted() // the walk saw it (a duplicate key)
		}
		// The walk checks every type yaml decodes; this is a safety net.
		return nil, problem.Problems{v.syntaxProblem(err)}
	}
	v.resolveSecrets(cfg)
	v.check(cfg)
	if len(v.problems) > 0 {
		// the warnings join the errors, marked, so that one reading
		// shows everything the file has
		for _, w := range v.warnings {
			w.Msg = "warning: " + w.Msg
			v.problems = append(v.problems, w)
		}
		return nil, v.sorted()
	}
	cfg.Warnings = byPosition(v.warnings)
	return cfg, nil
}

// sorted orders the problems by position.
func (v *validator) sorted() problem.Problems { return byPosition(v.problems) }

// byPosition orders problems by line and column, in place; those of
// imported SLO files stay together, each file after the first problem
// reported in it, so that one file's lines do not interleave another's.
func byPosition(ps problem.Problems) problem.Problems {
	rank := map[string]int{}
	for _, p := range ps {
		if _, ok := rank[p.File]; !ok {
			rank[p.File] = len(rank)
		}
	}
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.File != b.File {
			return rank[a.File] < rank[b.File]
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return ps
}

// syntaxProblem turns a yaml error ("yaml: line 3: ...") into a Problem.
func (v *validator) syntaxProblem(err error) problem.Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
		return problem.Problem{File: v.file, Line: line, Column: 1, Msg: "invalid YAML: " + msg}
	}
	return problem.Problem{File: v.file, Msg: "invalid YAML: " + msg}
}
