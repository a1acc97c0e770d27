package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/config"
)

// slowREDPrometheus is a Prometheus whose service graph answers at once
// (the database fails in the last slices, not in the baseline) and whose
// RED metrics never come: every spanmetrics query hangs until the client
// gives up, as a 2,000-service histogram_quantile does on a small server.
func slowREDPrometheus(t *testing.T) string {
	t.Helper()
	edges := []struct {
		client, server, kind string
		rate, failed         float64
	}{{"user", "web", "virtual_node", 100, 40}, {"web", "api", "", 100, 40}, {"api", "db", "database", 300, 150}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.FormValue("query")
		if strings.Contains(q, "traces_spanmetrics") {
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/api/v1/query" {
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"matrix","result":[]}}`)
			return
		}
		var result []string
		for _, e := range edges {
			v := e.rate
			switch {
			case strings.Contains(q, "request_failed_total") && strings.Contains(q, "[5m]"):
				v = e.failed
			case strings.Contains(q, "request_failed_total"):
				v = 0.1 // the baseline: healthy
			case !strings.Contains(q, "request_total"):
				continue // latency: none
			}
			result = append(result, fmt.Sprintf(`{"metric":{"client":%q,"server":%q,"connection_type":%q},"value":[%d,"%g"]}`,
				e.client, e.server, e.kind, time.Now().Unix(), v))
		}
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[%s]}}`, strings.Join(result, ","))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestIncidentWithLateREDSaysBlastUnknown is the field report: the RED
// metrics miss the deadline, the service graph names the failing
// database. The incident still answers, names the part missing and why,
// exits 3, and its blast radius is unknown: not "failing 0 req/min",
// not "no entry point is hurt", and null in JSON. The config's
// incident.deadline sets the deadline; --deadline overrides it.
func TestIncidentWithLateREDSaysBlastUnknown(t *testing.T) {
	cfg := writeFile(t, "config.yaml", "datasources:\n  prometheus: {url: "+slowREDPrometheus(t)+", retries: 0, max_concurrency: 64}\nincident:\n  deadline: 1s\n")
	r := oncallAt(t, time.Now, nil, "", "incident", "--config", cfg, "--no-color")
	if r.code != 3 {
		t.Fatalf("exit %d: %+v", r.code, r)
	}
	for _, want := range []string{"metrics: RED", "did not arrive within 1s", "entry points: web (others unknown)", "requests at entry points unknown: the entry points' metrics did not arrive"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("the text lacks %q:\n%s", want, r.out)
		}
	}
	if strings.Contains(r.out, "failing 0") || strings.Contains(r.out, "no entry point is hurt") {
		t.Errorf("the blast radius reads as measured:\n%s", r.out)
	}
	j := oncallAt(t, time.Now, nil, "", "incident", "--config", cfg, "--deadline", "1500ms", "-o", "json")
	if j.code != 3 {
		t.Fatalf("exit %d: %+v", j.code, j)
	}
	var inc struct {
		Missing []struct{ What, Why string }
		Blast   map[string]any `json:"blast_radius"`
	}
	if err := json.Unmarshal([]byte(j.out), &inc); err != nil {
		t.Fatal(err)
	}
	if len(inc.Missing) == 0 || !strings.Contains(fmt.Sprint(inc.Missing), "metrics: RED did not arrive within 1.5s") {
		t.Errorf("--deadline does not override the config, or the part is not named: %+v", inc.Missing)
	}
	for _, k := range []string{"failing_per_min", "at_risk_per_min"} {
		if v, ok := inc.Blast[k]; !ok || v != nil {
			t.Errorf("%s is %v, want null: %v", k, v, inc.Blast)
		}
	}
}

// TestIncidentDeadlineIsTheWorlds: with no --deadline the incident
// waits as long as its world says, the same value the cockpit and the
// runbooks' looks get: a datasource's `timeout: 60s` lifts it past 60 s.
// --deadline overrides it, and one too short to gather anything is
// refused.
func TestIncidentDeadlineIsTheWorlds(t *testing.T) {
	cfg, err := config.Parse("config.yaml", []byte("datasources:\n  prometheus: {url: http://127.0.0.1:1, timeout: 60s}\n"), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	e := &env{IO: IOStreams{Out: &strings.Builder{}, ErrOut: &strings.Builder{}}, LookupEnv: func(string) (string, bool) { return "", false }, Now: time.Now, osUser: osUserName}
	w, err := configWorld(e, cfg, "config.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Minute + config.DeadlineMargin
	f := &Factory{env: e, Global: &globalOptions{}}
	o := &incidentOptions{Factory: f, baseline: 30 * time.Minute}
	if got := o.gatherOptions(w).Deadline; got != want {
		t.Errorf("incident: deadline %s, want %s", got, want)
	}
	if got := f.Deps(w, "t").IncidentDeadline; got != want {
		t.Errorf("cockpit: deadline %s, want %s", got, want)
	}
	if got := f.Kit(w).Deadline; got != want {
		t.Errorf("runbook kit: deadline %s, want %s", got, want)
	}
	o.deadline = 5 * time.Second
	if got := o.gatherOptions(w).Deadline; got != 5*time.Second {
		t.Errorf("--deadline 5s: deadline %s", got)
	}
	r := oncall(t, nil, "", "incident", "--demo", "retry-storm", "--deadline", "1ns")
	if r.code != 2 || !strings.Contains(r.err, "--deadline 1ns is too short: at least 1s") {
		t.Errorf("exit %d: %s", r.code, r.err)
	}
}
