package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/internal/present"
	"github.com/oncall-cockpit/oncall/sources"
)

// doctorOptions are doctor's flags, and the factory it reads through.
type doctorOptions struct {
	*Factory
	output  string
	timeout time.Duration
}

// doctorReport is what doctor found, as -o json writes it.
type doctorReport struct {
	Config      string             `json:"config"`
	OK          bool               `json:"ok"`
	Datasources []datasourceReport `json:"datasources"`
}

// datasourceReport is one datasource's checks.
type datasourceReport struct {
	Name   string          `json:"name"`
	URL    string          `json:"url"`
	OK     bool            `json:"ok"`
	Checks []sources.Check `json:"checks"`
}

// NewCmdDoctor is `oncall doctor`; runF, when set, runs instead of
// runDoctor, so tests can read the options the flags gave.
func NewCmdDoctor(f *Factory, runF func(context.Context, *doctorOptions) error) *cobra.Command {
	o := &doctorOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check every datasource: reachable, version, auth and tenant, expected data",
		Long: `doctor asks each configured datasource, in parallel, whether it answers,
which version it runs, whether it accepts the credentials and tenant, and
whether the series and labels the conventions expect exist: span metrics,
the service graph, the service label, trace IDs in logs.

A missing service graph or trace IDs in logs is a warning (oncall works with
less); an unreachable backend, rejected credentials or missing RED metrics
is a failure, and doctor exits 1.`,
		Example: "  oncall doctor --config ~/.config/oncall/config.yaml\n  oncall doctor -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runDoctor(cmd.Context(), o)
		},
	}
	outputFlag(cmd, &o.output, "text", "json")
	durationFlag(cmd, &o.timeout, "timeout", "", 30*time.Second, "give up on all checks after this long")
	return cmd
}

func runDoctor(ctx context.Context, o *doctorOptions) error {
	w, err := o.ConfigWorld()
	if err != nil {
		return err
	}
	if len(w.Backends.Doctors) == 0 {
		return fmt.Errorf("no datasources configured (config %s); add a datasources section or run 'oncall config import-grafana'", w.Path) // the check fails: exit 1
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	rep := runDoctors(ctx, w.Path, w.Backends.Doctors)
	if o.output == "json" {
		if err := writeJSON(o.IO.Out, rep); err != nil {
			return err
		}
	} else if err := printDoctor(o.Factory, rep); err != nil {
		return err
	}
	if !rep.OK {
		return exitError{code: 1}
	}
	return nil
}

// runDoctors runs every datasource's checks at once, under ctx's
// deadline.
func runDoctors(ctx context.Context, path string, ds []namedDoctor) doctorReport {
	rep := doctorReport{Config: path, OK: true, Datasources: make([]datasourceReport, len(ds))}
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			checks := d.Doctor.Doctor(ctx)
			r := datasourceReport{Name: d.Name, URL: d.URL, OK: true, Checks: checks}
			for _, c := range checks {
				if c.Status == sources.CheckFail {
					r.OK = false
				}
			}
			rep.Datasources[i] = r
		}()
	}
	wg.Wait()
	for _, d := range rep.Datasources {
		rep.OK = rep.OK && d.OK
	}
	return rep
}

// printDoctor writes the report as a table, its statuses coloured, and
// the verdict.
func printDoctor(f *Factory, rep doctorReport) error {
	t := present.NewTable("DATASOURCE", "CHECK", "STATUS", "DETAIL")
	t.Style = func(col int, cell string) string {
		if col == 2 {
			return colorStatus(cell)
		}
		return cell
	}
	for _, d := range rep.Datasources {
		for i, c := range d.Checks {
			name := ""
			if i == 0 {
				name = d.Name + " " + d.URL
			}
			t.Row(name, c.Name, statusWord(c.Status), c.Detail)
		}
	}
	if err := t.Render(f.StyledOut()); err != nil {
		return err
	}
	verdict := "all datasources ok"
	if !rep.OK {
		verdict = "some checks FAILED"
	}
	_, err := fmt.Fprintf(f.IO.Out, "\n%s (config %s)\n", verdict, rep.Config)
	return err
}
