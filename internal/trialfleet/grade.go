package trialfleet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// Verdict is how one incident run ranked one case.
type Verdict struct {
	Candidates []string `json:"candidates"`
	Top1       bool     `json:"top1"`
	Top3       bool     `json:"top3"`
	// Recall is the share of the truth's blast radius that oncall's
	// blast radius names.
	Recall   float64 `json:"recall"`
	ExitCode int     `json:"exit_code"`
	Err      string  `json:"error,omitempty"`
}

// Graded is a case with its verdicts: scoped to the paged app's entry,
// and fleet-wide (no --service). Isolated says no other fault was live
// in the incident's window, so the fleet-wide run had only this case to
// find.
type Graded struct {
	Case
	At       time.Time `json:"at"`
	Scoped   Verdict   `json:"scoped"`
	Fleet    Verdict   `json:"fleet"`
	Isolated bool      `json:"isolated"`
}

// incidentJSON is the part of `oncall incident -o json` grading reads
// (docs/incident-json.md).
type incidentJSON struct {
	Candidates []struct {
		Service string `json:"service"`
	} `json:"candidates"`
	BlastRadius *struct {
		Services []struct {
			Service string `json:"service"`
		} `json:"services"`
	} `json:"blast_radius"`
}

// Judge scores an incident's JSON against a case.
func Judge(c Case, out []byte) (Verdict, error) {
	var inc incidentJSON
	if err := json.Unmarshal(out, &inc); err != nil {
		return Verdict{}, fmt.Errorf("incident json: %w", err)
	}
	var v Verdict
	for _, cand := range inc.Candidates {
		v.Candidates = append(v.Candidates, cand.Service)
	}
	v.Top1 = len(v.Candidates) > 0 && v.Candidates[0] == c.Root
	v.Top3 = slices.Contains(v.Candidates[:min(3, len(v.Candidates))], c.Root)
	named := map[string]bool{}
	if inc.BlastRadius != nil {
		for _, s := range inc.BlastRadius.Services {
			named[s.Service] = true
		}
	}
	hit := 0
	for _, m := range c.BlastRadius {
		if named[m] {
			hit++
		}
	}
	if len(c.BlastRadius) > 0 {
		v.Recall = float64(hit) / float64(len(c.BlastRadius))
	}
	return v, nil
}

// Isolated reports whether no other case's fault was live in the
// incident's window [at-window, at], so a fleet-wide incident has only
// this case to find.
func Isolated(c Case, all []Case, at time.Time, window time.Duration) bool {
	for _, o := range all {
		if o.App == c.App && o.Onset.Equal(c.Onset) {
			continue
		}
		if o.Onset.Before(at) && o.End.After(at.Add(-window)) {
			return false
		}
	}
	return true
}

// Grader runs the built oncall binary on each case.
type Grader struct {
	Oncall string // path of the built binary
	Config string
	After  time.Duration // how long after the onset the incident is asked for
	Window time.Duration // oncall's default --window, for Isolated
	// Record, when set, is a directory where each case's scoped run is
	// recorded through cassette proxies (one subdirectory per case), for
	// CI to replay.
	Record string
}

// Grade runs oncall for every case, scoped and fleet-wide.
func (g Grader) Grade(ctx context.Context, cases []Case, progress io.Writer) []Graded {
	var out []Graded
	for i, c := range cases {
		at := c.Onset.Add(g.After)
		gr := Graded{Case: c, At: at}
		if g.Record != "" {
			gr.Scoped = g.record(ctx, c, at, filepath.Join(g.Record, fmt.Sprintf("%02d-%s-%s", i+1, c.Class, c.App)))
		} else {
			gr.Scoped = g.run(ctx, c, at, c.Entry, g.Config)
		}
		gr.Fleet = g.run(ctx, c, at, "", g.Config)
		gr.Isolated = Isolated(c, cases, at, g.Window)
		fmt.Fprintf(progress, "%s %s %s root=%s scoped top1=%v top3=%v recall=%.2f got=%v %s| fleet-wide got=%v %s\n", at.UTC().Format(time.TimeOnly),
			c.Class, c.App, c.Root, gr.Scoped.Top1, gr.Scoped.Top3, gr.Scoped.Recall, gr.Scoped.Candidates, gr.Scoped.Err, gr.Fleet.Candidates, gr.Fleet.Err)
		out = append(out, gr)
	}
	return out
}

// record runs the scoped incident through recorders into dir.
func (g Grader) record(ctx context.Context, c Case, at time.Time, dir string) Verdict {
	rec, err := startRecording(g.Config, dir, at)
	if err != nil {
		return Verdict{ExitCode: -1, Err: "record: " + err.Error()}
	}
	v := g.run(ctx, c, at, c.Entry, rec.config)
	if err := rec.finish(c, at); err != nil {
		v.Err = strings.TrimSpace(v.Err + " record: " + err.Error())
	}
	return v
}

func (g Grader) run(ctx context.Context, c Case, at time.Time, service, config string) Verdict {
	args := []string{"--config", config, "incident", "--at", at.UTC().Format(time.RFC3339), "-o", "json"}
	if service != "" {
		args = append(args, "--service", service)
	}
	cmd := exec.CommandContext(ctx, g.Oncall, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		return Verdict{ExitCode: -1, Err: err.Error()}
	}
	v, jerr := Judge(c, stdout.Bytes())
	v.ExitCode = code
	if jerr != nil {
		v.Err = strings.TrimSpace(jerr.Error() + " " + firstLine(stderr.String()))
	}
	return v
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// ClassScore is one row of the report.
type ClassScore struct {
	Class  Class
	Cases  int
	Top1   float64
	Top3   float64
	Recall float64
}

// Score sums verdicts per class; pick chooses which verdict (scoped or
// fleet-wide) and skips a case when it returns nil.
func Score(graded []Graded, pick func(Graded) *Verdict) []ClassScore {
	by := map[Class]*ClassScore{}
	for _, g := range graded {
		v := pick(g)
		if v == nil {
			continue
		}
		s := by[g.Class]
		if s == nil {
			s = &ClassScore{Class: g.Class}
			by[g.Class] = s
		}
		s.Cases++
		if v.Top1 {
			s.Top1++
		}
		if v.Top3 {
			s.Top3++
		}
		s.Recall += v.Recall
	}
	var out []ClassScore
	for _, s := range by {
		n := float64(s.Cases)
		s.Top1, s.Top3, s.Recall = s.Top1/n, s.Top3/n, s.Recall/n
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return slices.Index(Classes, out[i].Class) < slices.Index(Classes, out[j].Class) })
	return out
}

// MarkdownTable renders scores as the README's table.
func MarkdownTable(scores []ClassScore) string {
	var b strings.Builder
	b.WriteString("| fault class | cases | top-1 | top-3 | blast-radius recall |\n| --- | ---: | ---: | ---: | ---: |\n")
	for _, s := range scores {
		fmt.Fprintf(&b, "| %s | %d | %.2f | %.2f | %.2f |\n", s.Class, s.Cases, s.Top1, s.Top3, s.Recall)
	}
	return b.String()
}
