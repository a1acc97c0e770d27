package present

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// red is a service's one-minute traffic: requests and errors per second,
// and its p99.
func red(service string, req, errs, p99 float64) sources.RED {
	one := func(v float64) sources.Series {
		return sources.Series{Samples: []sources.Sample{{T: t0, V: v}}, Query: "q_" + service}
	}
	return sources.RED{Service: service, Requests: one(req), Errors: one(errs), P99: one(p99)}
}

func TestDemoWorstServiceFirst(t *testing.T) {
	d := NewDemo("retry-storm", t0, t0.Add(time.Minute), []sources.RED{
		red("web", 100, 1, 0.05), {Service: "idle"}, red("api", 50, 25, 1.2), red("cold", 0, 0, 0),
	}, nil, nil)
	var got []string
	for _, s := range d.Services {
		got = append(got, fmt.Sprintf("%s %.2f", s.Service, s.ErrorRatio))
	}
	// a service with no sample is left out; one with no requests has no errors
	if want := "api 0.50,web 0.01,cold 0.00"; strings.Join(got, ",") != want {
		t.Errorf("services %q, want %q", got, want)
	}
	if d.Services[0].Source != "q_api" || d.Services[0].P99Seconds != 1.2 {
		t.Errorf("api: %+v", d.Services[0])
	}
}

func TestDemoTextIsInertAndCut(t *testing.T) {
	evil := "db\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J"
	var reds []sources.RED
	for i := range 12 {
		reds = append(reds, red(fmt.Sprintf("svc-%02d", i), 100, float64(i), 0.25))
	}
	reds = append(reds, red(evil, 10, 10, 2))
	alerts := []sources.Alert{{Name: "ErrorBudgetBurn", Severity: "page", StartsAt: t0.Add(-90 * time.Second), Annotations: sources.Labels{"summary": "burning " + evil}}}
	changes := []sources.Change{{T: t0.Add(-10 * time.Minute), Service: "api", Kind: sources.ChangeDeploy, Detail: "v2"}}
	var b strings.Builder
	if err := DemoText(&b, NewDemo("bad-deploy", t0, t0.Add(90*time.Second), reds, alerts, changes)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("control sequences reached the text:\n%q", out)
	}
	for _, want := range []string{
		"oncall demo · bad-deploy · simulated 2026-11-27 23:00:00 UTC (onset -1m30s)\n\n",
		"SERVICE  REQ/S  ERRORS   P99\n",
		"100.00%  2.0s\n",  // the worst first
		"svc-03", "svc-10", // ten rows: db and the worst nine of the twelve
		"\nsource: simulator span metrics over the last minute, worst error ratio first\n",
		"ErrorBudgetBurn  page      22:58:30  burning db",
		"CHANGE  AT        SERVICE  DETAIL\ndeploy  22:50:00  api      v2\n\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "svc-02") {
		t.Errorf("more than ten services:\n%s", out)
	}
	b.Reset()
	if err := DemoText(&b, NewDemo("quiet", t0, t0, nil, nil, nil)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "FIRING") || strings.Contains(b.String(), "CHANGE") || !strings.Contains(b.String(), "(onset +0s)") {
		t.Errorf("a quiet fleet:\n%s", b.String())
	}
}
