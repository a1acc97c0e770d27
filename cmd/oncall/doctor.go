package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/oncall-cockpit/oncall/sources"
)

type doctorOptions struct {
	Output  string
	Timeout time.Duration
}

type doctorReport struct {
	Config      string             `json:"config"`
	OK          bool               `json:"ok"`
	Datasources []datasourceReport `json:"datasources"`
}

type datasourceReport struct {
	Name   string          `json:"name"`
	URL    string          `json:"url"`
	OK     bool            `json:"ok"`
	Checks []sources.Check `json:"checks"`
}

func newDoctorCmd(e *env, g *globalOptions) *cobra.Command {
	o := &doctorOptions{}
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
			cfg, path, err := g.loadConfig(e)
			if err != nil {
				return err
			}
			b, err := newBackends(cfg)
			if err != nil {
				return err
			}
			if len(b.Doctors) == 0 {
				return fmt.Errorf("no datasources configured (config %s); add a datasources section or run 'oncall config import-grafana'", path) // the check fails: exit 1
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), o.Timeout)
			defer cancel()
			rep := runDoctors(ctx, path, b.Doctors)
			if o.Output == "json" {
				if err := writeJSON(e.IO.Out, rep); err != nil {
					return err
				}
			} else if err := printDoctor(e, g, rep); err != nil {
				return err
			}
			if !rep.OK {
				return exitError{code: 1}
			}
			return nil
		},
	}
	outputFlag(cmd, &o.Output, "text", "json")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 30*time.Second, "give up on all checks after this long")
	return cmd
}

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

func printDoctor(e *env, g *globalOptions, rep doctorReport) error {
	t := newTable("DATASOURCE", "CHECK", "STATUS", "DETAIL")
	t.style = func(col int, cell string) string {
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
			t.row(name, c.Name, statusWord(c.Status), c.Detail)
		}
	}
	if err := t.render(g.styledOut(e)); err != nil {
		return err
	}
	verdict := "all datasources ok"
	if !rep.OK {
		verdict = "some checks FAILED"
	}
	_, err := fmt.Fprintf(e.IO.Out, "\n%s (config %s)\n", verdict, rep.Config)
	return err
}
