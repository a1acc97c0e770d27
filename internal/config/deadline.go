package config

import (
	"time"

	"github.com/oncall-cockpit/oncall/internal/timeparse"
)

// DeadlineMargin is what the default deadline adds to the longest
// datasource timeout: a request may use its whole timeout and still be
// decoded and kept, and the merging that follows the last answer takes
// well under a second even for thousands of services on a busy machine.
const DeadlineMargin = 2 * time.Second

// MinDeadline is the shortest deadline incident.deadline and --deadline
// accept: under a second even a healthy stack's slowest request does not
// reliably arrive (a trace fetch takes 0.55–0.63 s on a real Tempo under
// the incident's own load), so a shorter one only ever reports
// everything missing.
const MinDeadline = time.Second

// DefaultTimeout bounds a request, retries included, when a datasource
// sets no timeout: the incident's default deadline is derived from it.
const DefaultTimeout = 15 * time.Second

// RequestTimeout is how long one request to the datasource may take,
// retries included: its timeout, or DefaultTimeout.
func (ds *Datasource) RequestTimeout() time.Duration {
	return ds.Timeout.Or(DefaultTimeout)
}

// IncidentDeadline is how long an incident waits for its evidence:
// incident.deadline when the config sets it, else DeadlineMargin past the
// longest timeout among the datasources in use, since the incident waits
// on each of them and a deadline shorter than a request's own timeout
// would cut off an answer the config allows (a datasource set to
// `timeout: 60s` is waited for). The datasources are the context's in
// use, after UseContext, and Grafana when its annotations are read.
func (c *Config) IncidentDeadline() time.Duration {
	if c.Incident.Deadline > 0 {
		return time.Duration(c.Incident.Deadline)
	}
	longest := time.Duration(0)
	c.Datasources.Each(func(_ string, ds *Datasource) { longest = max(longest, ds.RequestTimeout()) })
	if c.Grafana.AnnotationsOn() {
		// the changes wait on Grafana's annotations too
		longest = max(longest, c.Grafana.Timeout.Or(DefaultTimeout))
	}
	return longest + DeadlineMargin
}

// checkIncident refuses a deadline too short to gather anything, and
// warns of one shorter than a datasource's timeout, which cuts off
// answers the datasource allows.
func (v *validator) checkIncident(c *Config) {
	const p = "incident.deadline"
	if n := v.pos[p]; n == nil || n.ShortTag() == "!!null" {
		return
	}
	d := time.Duration(c.Incident.Deadline)
	if d < MinDeadline {
		v.atPath(p, "%s is too short: at least %s (leave it out to wait for the longest datasource timeout plus %s)",
			timeparse.FormatDuration(d), timeparse.FormatDuration(MinDeadline), timeparse.FormatDuration(DeadlineMargin))
		return
	}
	eachDatasource(c, func(path string, ds *Datasource) {
		if t := ds.RequestTimeout(); t > d {
			v.warnPath(p, "%s is shorter than %s.timeout (%s): its slower answers are cut off and reported missing",
				timeparse.FormatDuration(d), path, timeparse.FormatDuration(t))
		}
	})
}
