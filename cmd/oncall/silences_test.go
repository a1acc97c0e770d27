package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/testenv"
)

// postAlerts fires alerts into a real Alertmanager through its API.
func postAlerts(t *testing.T, amURL string, labels ...map[string]string) {
	t.Helper()
	var body []map[string]any
	for _, l := range labels {
		body = append(body, map[string]any{"labels": l, "startsAt": time.Now().Add(-time.Minute).Format(time.RFC3339),
			"endsAt": time.Now().Add(time.Hour).Format(time.RFC3339)})
	}
	b, _ := json.Marshal(body)
	resp, err := http.Post(amURL+"/api/v2/alerts", "application/json", bytes.NewReader(b))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("posting alerts: %v %v", err, resp)
	}
	resp.Body.Close()
}

// amAlert is what GET /api/v2/alerts says of one alert.
type amAlert struct {
	Labels map[string]string `json:"labels"`
	Status struct {
		SilencedBy []string `json:"silencedBy"`
	} `json:"status"`
}

func amAlerts(t *testing.T, amURL string) []amAlert {
	t.Helper()
	resp, err := http.Get(amURL + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []amAlert
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSilenceMatcherFormsAgainstRealAlertmanager pastes each form of
// matcher amtool users write into `oncall silences add` and checks, on a
// real Alertmanager 0.25, that the silence silences the alert it should
// and only that one.
func TestSilenceMatcherFormsAgainstRealAlertmanager(t *testing.T) {
	amURL := testenv.Alertmanager(t)
	postAlerts(t, amURL,
		map[string]string{"alertname": "Foo Bar", "team": "sre", "service": "payments"},
		map[string]string{"alertname": "X", "team": "web"},
		map[string]string{"alertname": "Other", "team": "sre2"},
	)
	deadline := time.Now().Add(30 * time.Second)
	for len(amAlerts(t, amURL)) < 3 {
		if time.Now().After(deadline) {
			t.Fatal("the alerts did not reach Alertmanager")
		}
		time.Sleep(100 * time.Millisecond)
	}
	cfg := writeFile(t, "config.yaml", "datasources:\n  alertmanager: {url: "+amURL+"}\n")
	for _, c := range []struct {
		args     []string
		silenced string // the one alert it must silence
	}{
		{[]string{"-m", `alertname="Foo Bar"`}, "Foo Bar"},
		{[]string{"-m", `{alertname="X"}`}, "X"},
		{[]string{"-m", `team = sre`}, "Foo Bar"},
		{[]string{`team=~"sre.*"`, `alertname!~"Foo.*"`}, "Other"},
		{[]string{"-m", `{team!=web, service=~"pay.*"}`}, "Foo Bar"},
	} {
		args := append([]string{"silences", "add", "--config", cfg, "-c", "test", "--author", "t", "-y"}, c.args...)
		r := oncallAt(t, time.Now, nil, "", args...)
		id := strings.TrimSpace(r.out)
		if r.code != 0 || id == "" {
			t.Fatalf("%v: %+v", c.args, r)
		}
		var got []string
		for time.Now().Before(deadline.Add(30 * time.Second)) {
			got = got[:0]
			for _, a := range amAlerts(t, amURL) {
				if slices.Contains(a.Status.SilencedBy, id) {
					got = append(got, a.Labels["alertname"])
				}
			}
			if len(got) > 0 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if len(got) != 1 || got[0] != c.silenced {
			t.Errorf("%v silenced %q, want only %q", c.args, got, c.silenced)
		}
		if r := oncallAt(t, time.Now, nil, "", "silences", "expire", "--config", cfg, "-y", id); r.code != 0 || !strings.Contains(r.err, "DELETE /api/v2/silence/"+id) {
			t.Fatalf("expire %s: %+v", id, r)
		}
	}
	// expired silences are hidden unless asked for, as amtool does
	if r := oncall(t, nil, "", "silences", "--config", cfg); strings.Count(r.out, "\n") != 1 {
		t.Errorf("expired silences listed:\n%s", r.out)
	}
	if r := oncall(t, nil, "", "silences", "--config", cfg, "--expired"); strings.Count(r.out, "expired") != 5 {
		t.Errorf("--expired:\n%s", r.out)
	}
}

// fakeAlertmanagerWith serves alerts and silences and records expiries.
func fakeAlertmanagerWith(t *testing.T, alerts, silences string, expired *[]string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/v2/alerts":
			w.Write([]byte(alerts))
		case r.URL.Path == "/api/v2/silences":
			w.Write([]byte(silences))
		case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/api/v2/silence/"):
			*expired = append(*expired, strings.TrimPrefix(r.URL.Path, "/api/v2/silence/"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return writeFile(t, "config.yaml", "datasources:\n  alertmanager: {url: "+srv.URL+"}\n")
}

const twoSilences = `[
 {"id":"s-1","status":{"state":"active"},"matchers":[{"name":"alertname","value":"Foo Bar","isRegex":false,"isEqual":true},{"name":"team","value":"sre","isRegex":false,"isEqual":true}],"startsAt":"2026-11-25T02:00:00Z","endsAt":"2026-11-25T04:00:00Z","createdBy":"alice","comment":"deploy fix"},
 {"id":"s-2","status":{"state":"active"},"matchers":[{"name":"alertname","value":"Foo Bar","isRegex":false,"isEqual":true}],"startsAt":"2026-11-25T02:00:00Z","endsAt":"2026-11-25T04:00:00Z","createdBy":"bob","comment":"noise"},
 {"id":"s-3","status":{"state":"expired"},"matchers":[{"name":"alertname","value":"Foo Bar","isRegex":false,"isEqual":true}],"startsAt":"2026-11-25T01:00:00Z","endsAt":"2026-11-25T02:00:00Z","createdBy":"carol","comment":"old"}]`

func TestSilenceExpireShowsEachSilenceAndTakesSeveral(t *testing.T) {
	var expired []string
	cfg := fakeAlertmanagerWith(t, `[]`, twoSilences, &expired)
	r := oncall(t, nil, "n\n", "silences", "expire", "--config", cfg, "s-1", "s-2")
	for _, want := range []string{"DELETE /api/v2/silence/s-1", `alertname="Foo Bar", team="sre"`, "created by: alice", "comment:    noise", "Expire these 2 silences? [y/N]"} {
		if !strings.Contains(r.err, want) {
			t.Errorf("the plan lacks %q:\n%s", want, r.err)
		}
	}
	if r.code != 1 || len(expired) != 0 {
		t.Fatalf("no: %+v, expired %v", r, expired)
	}
	r = oncall(t, nil, "y\n", "silences", "expire", "--config", cfg, "--matching", `alertname="Foo Bar"`, "--matching", "team=sre")
	if r.code != 0 || !slices.Equal(expired, []string{"s-1"}) {
		t.Fatalf("--matching: %+v, expired %v", r, expired)
	}
	for args, want := range map[string]string{
		"s-9":                    "no silence s-9",
		"s-3":                    "already expired",
		"--matching team=nobody": "no active or pending silence",
		"":                       "name silence IDs",
	} {
		r := oncall(t, nil, "y\n", append([]string{"silences", "expire", "--config", cfg}, strings.Fields(args)...)...)
		if r.code != 2 || !strings.Contains(r.err, want) {
			t.Errorf("%q: %+v, want exit 2 with %q", args, r, want)
		}
	}
}

func TestAlertsFilterLikeAmtool(t *testing.T) {
	var none []string
	cfg := fakeAlertmanagerWith(t, `[
 {"labels":{"alertname":"Foo Bar","team":"sre","severity":"page"},"startsAt":"2026-11-25T02:50:00Z","status":{"state":"active"}},
 {"labels":{"alertname":"Quiet","team":"sre"},"startsAt":"2026-11-25T02:50:00Z","status":{"state":"suppressed","silencedBy":["s-1"]}},
 {"labels":{"alertname":"Held","team":"web"},"startsAt":"2026-11-25T02:50:00Z","status":{"state":"suppressed","inhibitedBy":["x"]}}]`, `[]`, &none)
	for args, want := range map[string][]string{
		"":                                      {"Foo Bar"},
		"--silenced":                            {"Quiet"},
		"--inhibited --active":                  {"Foo Bar", "Held"},
		"team=sre -s -a":                        {"Foo Bar", "Quiet"},
		"Quiet --silenced":                      {"Quiet"},
		`{team=~"s.*"} severity!=page -a -s -i`: {"Quiet"},
	} {
		r := oncall(t, nil, "", append([]string{"alerts", "--config", cfg}, strings.Fields(args)...)...)
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(r.out), "\n")[1:] {
			got = append(got, strings.Split(line, "  ")[0])
		}
		if r.code != 0 || !slices.Equal(got, want) {
			t.Errorf("alerts %s: %v (%+v), want %v", args, got, r, want)
		}
	}
	if r := oncall(t, nil, "", "alerts", "--config", cfg, "team=~("); r.code != 2 {
		t.Errorf("a bad matcher: %+v", r)
	}
}

func TestSilenceAuthorFallsBackToTheOSUser(t *testing.T) {
	var posts atomic.Int32
	cfg := fakeAlertmanager(t, &posts)
	r := oncall(t, nil, "", "silences", "add", "--config", cfg, "alertname=X", "-c", "c")
	if !strings.Contains(r.err, "created by: "+osUserName()) || osUserName() == "" {
		t.Errorf("with $USER unset: %+v", r)
	}
}

func TestSilencesOptions(t *testing.T) {
	o, err := optionsFor(t, NewCmdSilences)
	if err != nil {
		t.Fatal(err)
	}
	if o.Factory == nil || o.output != "text" || o.expired || o.ledger || o.watch.on {
		t.Errorf("defaults: %+v", *o)
	}
	if o, err = optionsFor(t, NewCmdSilences, "--expired", "--ledger", "-o", "json", "-w"); err != nil {
		t.Fatal(err)
	}
	if !o.expired || !o.ledger || o.output != "json" || !o.watch.on {
		t.Errorf("parsed: %+v", *o)
	}
	for _, args := range [][]string{{"extra"}, {"-o", "yaml"}} {
		if _, err := optionsFor(t, NewCmdSilences, args...); exitCode(err) != exitUsage {
			t.Errorf("%q: err %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
}

func TestSilenceAddOptions(t *testing.T) {
	o, err := optionsFor(t, NewCmdSilenceAdd, "-m", `alertname="Foo Bar"`, "service=checkout-api", "-m", "team=sre", "-c", "investigating", "--author", "ana", "-y")
	if err != nil {
		t.Fatal(err)
	}
	// --match's first, then the arguments: the order the silence is written in
	if !slices.Equal(o.matchers, []string{`alertname="Foo Bar"`, "team=sre"}) || !slices.Equal(o.args, []string{"service=checkout-api"}) ||
		o.duration != time.Hour || o.comment != "investigating" || o.author != "ana" || !o.yes {
		t.Errorf("parsed: %+v", *o)
	}
	if o, err = optionsFor(t, NewCmdSilenceAdd, "-d", "1d"); err != nil || o.duration != 24*time.Hour || o.yes {
		t.Errorf("-d 1d: %v %+v", err, o)
	}
	if _, err := optionsFor(t, NewCmdSilenceAdd, "-d", "forever"); exitCode(err) != exitUsage {
		t.Errorf("-d forever: err %v, want a usage error", err)
	}
}

func TestSilenceExpireOptions(t *testing.T) {
	o, err := optionsFor(t, NewCmdSilenceExpire, "a1", "b2", "--matching", "team=sre", "-y")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.ids, []string{"a1", "b2"}) || !slices.Equal(o.matching, []string{"team=sre"}) || !o.yes {
		t.Errorf("parsed: %+v", *o)
	}
	if _, err := optionsFor(t, NewCmdSilenceExpire, "--yes=maybe"); exitCode(err) != exitUsage {
		t.Errorf("--yes=maybe: err %v, want a usage error", err)
	}
}

// TestSilencesFromTheDemo: the simulator's silences are listed (its
// fleet starts with none), and add and expire refuse --demo, which has
// no Alertmanager to write to.
func TestSilencesFromTheDemo(t *testing.T) {
	r := oncall(t, nil, "", "silences", "--demo", "db-pool-exhaustion")
	if r.code != 0 || !strings.HasPrefix(r.out, "ID  STATE  ENDS") {
		t.Fatalf("%+v", r)
	}
	if js := oncall(t, nil, "", "silences", "--demo", "db-pool-exhaustion", "-o", "json"); js.code != 0 || strings.TrimSpace(js.out) != "[]" {
		t.Fatalf("json: %+v", js)
	}
	for _, args := range [][]string{
		{"silences", "add", "--demo", "db-pool-exhaustion", "alertname=ConnectionPoolExhausted", "-c", "known", "-y"},
		{"silences", "expire", "--demo", "db-pool-exhaustion", "sim-0001", "-y"},
	} {
		if r := oncall(t, nil, "", args...); r.code != 2 || !strings.Contains(r.err, "the demo has no Alertmanager to write to") || r.out != "" {
			t.Errorf("%s: %+v", args[1], r)
		}
	}
}
