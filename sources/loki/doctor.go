package loki

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// Doctor checks reachability, auth and tenant, version, that the service
// label exists, and that trace IDs are found in recent lines.
func (c *Client) Doctor(ctx context.Context) []sources.Check {
	r := sources.TimeRange{Start: c.Now().Add(-time.Hour), End: c.Now()}
	labels, err := c.Labels(ctx, r)
	checks := sources.AccessCheck(err)
	if err != nil {
		return checks
	}
	b, err := c.BuildInfo(ctx)
	checks = append(checks, sources.VersionCheck(b.Version, err))
	svc := c.conv.ServiceLabel.Loki
	if !slices.Contains(labels, svc) {
		return append(checks, sources.Check{Name: "service label", Status: sources.CheckFail,
			Detail: fmt.Sprintf("label %q not among %v in the last hour (check conventions.service_label.loki)", svc, labels)})
	}
	values, err := c.LabelValues(ctx, svc, r)
	if err != nil {
		return append(checks, sources.Check{Name: "service label", Status: sources.CheckFail, Detail: err.Error(), Err: err})
	}
	checks = append(checks, sources.Check{Name: "service label", Status: sources.CheckOK, Detail: fmt.Sprintf("%q has %d services", svc, len(values))})
	const sample = 100
	lines, err := c.Logs(ctx, sources.LogQuery{Range: r, Limit: sample})
	if err != nil {
		return append(checks, sources.Check{Name: "trace IDs in logs", Status: sources.CheckFail, Detail: err.Error(), Err: err})
	}
	with := 0
	for _, l := range lines {
		if l.TraceID != "" {
			with++
		}
	}
	st := sources.CheckOK
	if with == 0 {
		st = sources.CheckWarn
	}
	return append(checks, sources.Check{Name: "trace IDs in logs", Status: st,
		Detail: fmt.Sprintf("%d of the last %d lines carry a trace ID (conventions.trace_id)", with, len(lines))})
}
