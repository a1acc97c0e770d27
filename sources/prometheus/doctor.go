package prometheus

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// Doctor checks reachability, auth and tenant, version, and that the RED
// series, the service label and the service-graph metrics the conventions
// expect exist in the last hour, and which change and resource presets
// find series.
func (c *Client) Doctor(ctx context.Context) []sources.Check {
	now := time.Now()
	rate, _, _ := c.red.Render(sources.REDTemplateData{Service: ".+", ServiceLabel: c.red.ServiceLabel, Window: "5m"})
	red, err := c.Query(ctx, rate, now)
	checks := sources.AccessCheck(err)
	if err != nil {
		return checks
	}
	b, err := c.BuildInfo(ctx)
	checks = append(checks, sources.VersionCheck(b.Version, err))
	checks = append(checks, c.redCheck(red, rate))
	sg := fmt.Sprintf("count by (client, server) (%s)", c.conv.ServiceGraph.RequestTotal)
	edges, err := c.Query(ctx, sg, now)
	switch {
	case err != nil:
		checks = append(checks, sources.Check{Name: "service graph", Status: sources.CheckFail, Detail: err.Error(), Err: err})
	case len(edges) == 0:
		checks = append(checks, sources.Check{Name: "service graph", Status: sources.CheckWarn,
			Detail: fmt.Sprintf("no %s series: the dependency graph will come from traces and config only", c.conv.ServiceGraph.RequestTotal)})
	default:
		checks = append(checks, sources.Check{Name: "service graph", Status: sources.CheckOK,
			Detail: fmt.Sprintf("%d edges in %s", len(edges), c.conv.ServiceGraph.RequestTotal)})
	}
	checks = append(checks, c.changesCheck(ctx, now))
	checks = append(checks, c.saturationCheck(ctx, now))
	return checks
}

func (c *Client) redCheck(red []sources.Series, query string) sources.Check {
	if len(red) == 0 {
		return sources.Check{Name: "RED metrics", Status: sources.CheckFail,
			Detail: fmt.Sprintf("preset %s: no series for %s (check conventions.red)", c.conv.RED.Preset, query)}
	}
	var services []string
	for _, s := range red {
		if v := s.Labels[c.red.ServiceLabel]; v != "" {
			services = append(services, v)
		}
	}
	if len(services) == 0 {
		return sources.Check{Name: "RED metrics", Status: sources.CheckFail,
			Detail: fmt.Sprintf("series found but none has the service label %q (check conventions.service_label)", c.red.ServiceLabel)}
	}
	sort.Strings(services)
	shown := services
	if len(shown) > 5 {
		shown = append(shown[:5:5], "…")
	}
	return sources.Check{Name: "RED metrics", Status: sources.CheckOK,
		Detail: fmt.Sprintf("preset %s, %d services by label %q: %s", c.conv.RED.Preset, len(services), c.red.ServiceLabel, strings.Join(shown, ", "))}
}

// presetResult is what one preset (or custom reader) found for doctor.
type presetResult struct {
	name     string
	services int    // services it found series for
	more     string // what else it found, e.g. "3 pools", or ""
	err      error
}

// presetCheck is the doctor line of one family of presets: which found
// series and for how many services, which found none, which failed. It
// warns when any preset failed or none found series (what the others
// found still reaches incidents, but not all of it), and says what
// incidents will lack when none did: lacking, e.g. "no deploys or
// restarts", and conventions, the key to look at.
func presetCheck(name string, results []presetResult, lacking, conventions string) sources.Check {
	if len(results) == 0 {
		return sources.Check{Name: name, Status: sources.CheckWarn,
			Detail: fmt.Sprintf("%s names no presets: incidents will have %s", conventions, lacking)}
	}
	var found, empty, failed []string
	var errs []error
	for _, r := range results {
		switch {
		case r.err != nil:
			failed = append(failed, fmt.Sprintf("%s (%s)", r.name, sources.Cause(r.err)))
			errs = append(errs, r.err)
		case r.services == 0:
			empty = append(empty, r.name)
		default:
			d := fmt.Sprintf("%s: %s", r.name, plural(r.services, "service"))
			if r.more != "" {
				d += " (" + r.more + ")"
			}
			found = append(found, d)
		}
	}
	var parts []string
	if len(found) > 0 {
		parts = append(parts, strings.Join(found, ", "))
	}
	if len(empty) > 0 {
		parts = append(parts, "no series: "+strings.Join(empty, ", "))
	}
	if len(failed) > 0 {
		parts = append(parts, "failed: "+strings.Join(failed, ", "))
	}
	check := sources.Check{Name: name, Status: sources.CheckOK, Detail: strings.Join(parts, "; "), Err: errors.Join(errs...)}
	switch {
	case len(found) == 0:
		check.Status = sources.CheckWarn
		check.Detail += fmt.Sprintf(" (incidents will have %s; see %s)", lacking, conventions)
	case len(failed) > 0:
		check.Status = sources.CheckWarn
	}
	return check
}

// plural is "1 service", "2 services".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
