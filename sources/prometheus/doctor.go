package prometheus

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// Doctor checks reachability, auth and tenant, version, and that the RED
// series, the service label and the service-graph metrics the conventions
// expect exist in the last hour.
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
