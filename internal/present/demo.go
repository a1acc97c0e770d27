package present

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/internal/humanize"
	"github.com/oncall-cockpit/oncall/sources"
)

// demoServiceRows is how many services the demo's text summary lists:
// the worst ten fit a terminal beside the alerts and changes.
const demoServiceRows = 10

// Demo is one refresh of `oncall demo`'s summary of a simulated fleet:
// its services by error ratio, its firing alerts and its recent changes.
// Its JSON is the summary's -o json form, one line per refresh.
type Demo struct {
	SimTime  time.Time        `json:"sim_time"`
	Scenario string           `json:"scenario"`
	Onset    time.Time        `json:"onset"`
	Services []DemoService    `json:"services"` // worst error ratio first
	Alerts   []sources.Alert  `json:"alerts"`
	Changes  []sources.Change `json:"changes"`
}

// DemoService is one service's traffic over the summary's last minute.
type DemoService struct {
	Service    string  `json:"service"`
	RPS        float64 `json:"rps"`
	ErrorRatio float64 `json:"error_ratio"`
	P99Seconds float64 `json:"p99_seconds"`
	// Source is the query the errors came from, so that a reader can
	// run it against the served fleet.
	Source string `json:"source"`
}

// NewDemo is the summary of scenario at now: each service's last sample
// of reds (services without one are left out), worst error ratio first.
func NewDemo(scenario string, now, onset time.Time, reds []sources.RED, alerts []sources.Alert, changes []sources.Change) Demo {
	d := Demo{SimTime: now, Scenario: scenario, Onset: onset, Alerts: alerts, Changes: changes}
	for _, r := range reds {
		n := len(r.Requests.Samples)
		if n == 0 {
			continue
		}
		req, errs := r.Requests.Samples[n-1].V, r.Errors.Samples[n-1].V
		ratio := 0.0
		if req > 0 {
			ratio = errs / req
		}
		d.Services = append(d.Services, DemoService{r.Service, req, ratio, r.P99.Samples[n-1].V, r.Errors.Query})
	}
	sort.SliceStable(d.Services, func(i, j int) bool { return d.Services[i].ErrorRatio > d.Services[j].ErrorRatio })
	return d
}

// DemoText writes the summary as plain text: the simulated time against
// the onset, the worst services, the firing alerts and the changes.
func DemoText(w io.Writer, d Demo) error {
	var b strings.Builder
	rel := d.SimTime.Sub(d.Onset).Truncate(time.Second)
	sign := "+"
	if rel < 0 {
		sign, rel = "-", -rel
	}
	fmt.Fprintf(&b, "oncall demo · %s · simulated %s (onset %s%s)\n\n", d.Scenario, d.SimTime.UTC().Format("2006-01-02 15:04:05 MST"), sign, rel)
	t := NewTable("SERVICE", "REQ/S", "ERRORS", "P99")
	for _, s := range d.Services[:min(demoServiceRows, len(d.Services))] {
		t.Row(s.Service, fmt.Sprintf("%.0f", s.RPS), fmt.Sprintf("%.2f%%", 100*s.ErrorRatio), humanize.SecondsShort(s.P99Seconds))
	}
	_ = t.Render(&b) // a strings.Builder does not fail
	b.WriteString("\nsource: simulator span metrics over the last minute, worst error ratio first\n")
	if len(d.Alerts) > 0 {
		at := NewTable("FIRING", "SEVERITY", "SINCE", "SUMMARY")
		for _, a := range d.Alerts {
			at.Row(a.Name, a.Severity, Clock(a.StartsAt, nil), a.Annotations["summary"])
		}
		b.WriteString("\n")
		_ = at.Render(&b)
	}
	if len(d.Changes) > 0 {
		ct := NewTable("CHANGE", "AT", "SERVICE", "DETAIL")
		for _, c := range d.Changes {
			ct.Row(string(c.Kind), Clock(c.T, nil), c.Service, c.Detail)
		}
		b.WriteString("\n")
		_ = ct.Render(&b)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}
