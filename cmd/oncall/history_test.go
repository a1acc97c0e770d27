package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/history"
	"github.com/oncall-cockpit/oncall/history/sqlstore"
	"github.com/oncall-cockpit/oncall/internal/testenv"
)

func TestHistoryCommandsFlags(t *testing.T) {
	l, err := optionsFor(t, NewCmdHistoryList, "--since", "7d", "--service", "checkout-api", "--offline", "-o", "json")
	if err != nil || l.since != 7*24*time.Hour || l.service != "checkout-api" || !l.offline || l.output != "json" {
		t.Errorf("history list: %+v, %v", l, err)
	}
	if l, _ := optionsFor(t, NewCmdHistoryList); l.since != defaultSince || l.offline || l.output != "text" {
		t.Errorf("history list defaults: %+v", l)
	}
	s, err := optionsFor(t, NewCmdHistoryShow, "inc-0123abcd", "-o", "json")
	if err != nil || s.id != "inc-0123abcd" || s.output != "json" {
		t.Errorf("history show: %+v, %v", s, err)
	}
	if _, err := optionsFor(t, NewCmdHistoryShow); exitCode(err) != exitUsage {
		t.Errorf("history show with no ID: %v", err)
	}
	r, err := optionsFor(t, NewCmdHistoryResolve, "inc-0123abcd", "--note", "rolled back", "--at", "-5m")
	if err != nil || r.id != "inc-0123abcd" || r.note != "rolled back" || r.at != "-5m" {
		t.Errorf("history resolve: %+v, %v", r, err)
	}
	n, err := optionsFor(t, NewCmdHistoryNote, "inc-0123abcd", "paged", "the", "DBA")
	if err != nil || n.id != "inc-0123abcd" || n.text != "paged the DBA" {
		t.Errorf("history note: %+v, %v", n, err)
	}
	if _, err := optionsFor(t, NewCmdHistoryNote, "inc-0123abcd"); exitCode(err) != exitUsage {
		t.Errorf("history note with no text: %v", err)
	}
	p, err := optionsFor(t, NewCmdPostmortem, "last", "--format", "github", "--owner", "alice", "--due", "7d")
	if err != nil || p.id != "last" || p.format != "github" || p.owner != "alice" || p.due != 7*24*time.Hour || p.output != "markdown" {
		t.Errorf("postmortem: %+v, %v", p, err)
	}
	if p, _ := optionsFor(t, NewCmdPostmortem, "inc-0123abcd"); p.due != history.DefaultDueIn {
		t.Errorf("postmortem's default due: %s", p.due)
	}
	st, err := optionsFor(t, NewCmdStats, "--since", "90d", "--service", "payment-api", "--stack", "demo", "-o", "json")
	if err != nil || st.since != 90*24*time.Hour || st.service != "payment-api" || st.stack != "demo" || st.output != "json" {
		t.Errorf("stats: %+v, %v", st, err)
	}
	i, err := optionsFor(t, NewCmdIncident, "--record", "--demo", "retry-storm")
	if err != nil || !i.record {
		t.Errorf("incident --record: %+v, %v", i, err)
	}
}

// TestHistoryRefusesBadFlags: every mistake is a usage error (exit 2),
// said before any store is opened.
func TestHistoryRefusesBadFlags(t *testing.T) {
	vars := map[string]string{"XDG_DATA_HOME": t.TempDir()}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"history", "--since", "a month"}, "--since"},
		{[]string{"history", "--since", "0s", "--offline"}, "--since 0s: must be positive"},
		{[]string{"stats", "--since", "0s", "--offline"}, "--since 0s: must be positive"},
		{[]string{"history", "lsit"}, `unknown command "lsit"`},
		{[]string{"postmortem", "last", "--format", "jira"}, `the only format is "github"`},
		{[]string{"postmortem", "last", "--format", "github", "-o", "json"}, "give one"},
		{[]string{"postmortem", "last", "--due", "0s"}, "--due 0s: must be positive"},
		{[]string{"postmortem", "last", "-o", "pdf"}, "want one of [markdown json]"},
		{[]string{"history", "resolve", "inc-0123abcd", "--at", "tomorrow"}, "--at"},
	} {
		r := oncall(t, vars, "", c.args...)
		if r.code != exitUsage || !strings.Contains(r.err, c.want) {
			t.Errorf("oncall %s: exit %d, stderr %q; want exit 2 saying %q", strings.Join(c.args, " "), r.code, r.err, c.want)
		}
	}
}

// TestHistoryRecordsTheIncidentAndTheAutopilot: incident --record and
// the autopilot open records in the local store, as stack "demo"; an
// unknown ID is named with the near ones; a note and a resolution by
// hand land on the record with their sources.
func TestHistoryRecordsTheIncidentAndTheAutopilot(t *testing.T) {
	vars := map[string]string{"XDG_DATA_HOME": t.TempDir(), "USER": "alice"}
	r := oncall(t, vars, "", "incident", "--demo", "retry-storm", "--after", "10m", "--record", "-o", "json")
	if r.code != 0 || !strings.Contains(r.err, "recorded as inc-") || !strings.Contains(r.err, "history.db") {
		t.Fatalf("incident --record: exit %d\n%s", r.code, r.err)
	}
	id := regexp.MustCompile(`inc-[0-9a-f]{8}`).FindString(r.err)
	recs := listRecords(t, vars)
	if len(recs) != 1 || recs[0].ID != id || recs[0].Stack != history.DemoStack || recs[0].Origin != history.OriginLive || recs[0].Detected.IsZero() || recs[0].Root == "" {
		t.Fatalf("records after incident --record: %+v", recs)
	}

	// an unknown ID: a usage error naming the one that is near
	near := id[:len(id)-1] + "x"
	r = oncall(t, vars, "", "history", "show", near)
	if r.code != exitUsage || !strings.Contains(r.err, "no incident") || !strings.Contains(r.err, id) {
		t.Errorf("history show %s: exit %d, %q", near, r.code, r.err)
	}
	r = oncall(t, vars, "", "history", "note", "inc-00000000", "nothing")
	if r.code != exitUsage || !strings.Contains(r.err, `no incident "inc-00000000"`) {
		t.Errorf("a note on an unknown ID: exit %d, %q", r.code, r.err)
	}

	if r = oncall(t, vars, "", "history", "note", id, "paged", "the", "DBA"); r.code != 0 {
		t.Fatalf("note: %d %s", r.code, r.err)
	}
	// no simulator runs now: the note on the demo's record is dated at
	// its latest data time, not the wall's, and says so
	latest := history.StackClock(recs, history.DemoStack)
	if n := listRecords(t, vars)[0].Notes; len(n) != 1 || !n[0].T.Equal(latest) || !strings.Contains(n[0].Source, "simulator's clock (typed at 2026-11-25T03:00:00Z") {
		t.Errorf("a note on a demo record: %+v, want dated %s", n, latest)
	}
	if r = oncall(t, vars, "", "history", "resolve", id, "--at", "2026-11-27T23:50:00Z", "--note", "rolled back"); r.code != 0 {
		t.Fatalf("resolve: %d %s", r.code, r.err)
	}
	rec := listRecords(t, vars)[0]
	if !rec.Resolved.T.Equal(time.Date(2026, 11, 27, 23, 50, 0, 0, time.UTC)) || !strings.Contains(rec.Resolved.Source, "by hand (alice") || rec.Resolved.Kind != history.KindHand || len(rec.Notes) != 2 || rec.Notes[0].By != "alice" {
		t.Errorf("after note and resolve: resolved %+v, notes %+v", rec.Resolved, rec.Notes)
	}
	show := oncall(t, vars, "", "history", "show", id)
	for _, want := range []string{"INCIDENT " + id + " · stack demo · live record · resolved", " onset        oncall anomaly detection", " first alert  ",
		"2026-11-27 23:50:00 resolved     by hand (alice", "alice: paged the DBA", "(end not seen) ErrorBudgetBurn checkout-api page"} {
		if !strings.Contains(show.out, want) {
			t.Errorf("history show lacks %q:\n%s", want, show.out)
		}
	}

	// the autopilot records what it acts on: crash-loop's restart is automatable
	r = oncall(t, vars, "", "autopilot", "--demo", "crash-loop", "--once")
	if !strings.Contains(r.out, "ran") {
		t.Fatalf("autopilot --once ran nothing: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	var auto *history.Record
	for _, rec := range listRecords(t, vars) {
		if rec.ID != id {
			auto = &rec
		}
	}
	if auto == nil || len(auto.Actions) == 0 || !auto.Actions[0].Autopilot || !auto.ByAutopilot || auto.Resolved.Kind != history.KindVerified {
		t.Fatalf("the autopilot's record: %+v", auto)
	}
	// the autopilot share counts the live record the autopilot resolved
	r = oncall(t, vars, "", "stats", "--offline", "--stack", history.DemoStack, "--service", auto.Root, "-o", "json")
	var st history.Stats
	if err := json.Unmarshal([]byte(r.out), &st); r.code != 0 || err != nil {
		t.Fatalf("stats: exit %d, %v\n%s\n%s", r.code, err, r.out, r.err)
	}
	if st.Fleet.Autopilot != (history.Share{N: 1, Of: 1}) {
		t.Errorf("stats' autopilot share %+v, want 1 of 1", st.Fleet.Autopilot)
	}
}

func listRecords(t *testing.T, vars map[string]string) []history.Record {
	t.Helper()
	r := oncall(t, vars, "", "history", "--offline", "-o", "json")
	if r.code != 0 {
		t.Fatalf("history: exit %d: %s", r.code, r.err)
	}
	var recs []history.Record
	if err := json.Unmarshal([]byte(r.out), &recs); err != nil {
		t.Fatalf("history -o json: %v\n%s", err, r.out)
	}
	return recs
}

// TestHistoryStoreUnreachable: a PostgreSQL history nobody listens for
// is an error naming the store, never its password; the stack's
// Prometheus down leaves the store's records listed, says which part was
// not read, and exits 3.
func TestHistoryStoreUnreachable(t *testing.T) {
	dir := t.TempDir()
	cfg := writeAt(t, filepath.Join(dir, "config.yaml"), fmt.Sprintf("history:\n  dsn: postgres://oncall:${PGPW}@%s/oncall?connect_timeout=2\n", testenv.FreeAddr(t)))
	vars := map[string]string{"XDG_DATA_HOME": dir, "PGPW": "s3cret-pw"}
	for _, args := range [][]string{{"history", "--offline"}, {"postmortem", "last"}, {"stats", "--offline"}, {"history", "note", "inc-0123abcd", "x"}} {
		r := oncall(t, vars, "", append([]string{"--config", cfg}, args...)...)
		if r.code == 0 || !strings.Contains(r.err, "history store PostgreSQL database oncall on 127.0.0.1:") || strings.Contains(r.err+r.out, "s3cret-pw") {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.err)
		}
	}

	prom := writeAt(t, filepath.Join(dir, "prom.yaml"), fmt.Sprintf("datasources:\n  prometheus:\n    url: http://%s\n    timeout: 2s\n    retries: 0\n", testenv.FreeAddr(t)))
	r := oncall(t, vars, "", "--config", prom, "history", "--since", "7d")
	if r.code != exitIncomplete || !strings.Contains(r.err, `prometheus ALERTS{alertstate="firing"}`) || !strings.Contains(r.out, "No incidents since") {
		t.Errorf("history with Prometheus down: exit %d\nstdout %s\nstderr %s", r.code, r.out, r.err)
	}
}

// TestPostmortemAfterTheDemoFromTheBinary: the retry-storm demo,
// resolved by its runbook from the shell, with a note, is in the
// history: postmortem last drafts it and stats counts it, from the
// built binary as a person runs it.
func TestPostmortemAfterTheDemoFromTheBinary(t *testing.T) {
	bin := testBinary(t)
	data := t.TempDir()
	run := func(args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"XDG_DATA_HOME=" + data, "XDG_CONFIG_HOME=" + t.TempDir(), "HOME=" + t.TempDir(), "USER=e2e-user", "PATH=" + os.Getenv("PATH")}
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errOut.String(), code
	}
	// the runbook turns the callers' retries down and triples the root;
	// its check sees checkout-api below 1%, and the verification
	// resolves the record
	_, stderr, code := run("runbook", "run", "retry-storm", "--demo", "retry-storm", "-y")
	id := regexp.MustCompile(`recorded as (inc-[0-9a-f]{8})`).FindStringSubmatch(stderr)
	if code != 0 || id == nil {
		t.Fatalf("runbook run: exit %d, recorded %v:\n%s", code, id, stderr)
	}
	if _, stderr, code := run("history", "note", id[1], "retries were 3 on every caller"); code != 0 {
		t.Fatalf("history note: exit %d: %s", code, stderr)
	}
	md, stderr, code := run("postmortem", "last")
	if code != 0 {
		t.Fatalf("postmortem last: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"# Postmortem draft", id[1], "## Timeline", "retry-storm/scale on user-preferences-api", "user-preferences-api", "retries were 3 on every caller", "runbook retry-storm verified (audit log)"} {
		if !strings.Contains(md, want) {
			t.Errorf("postmortem last lacks %q:\n%s", want, md)
		}
	}
	if gh, _, code := run("postmortem", id[1], "--format", "github", "--owner", "alice"); code != 0 || !strings.Contains(gh, "alice") {
		t.Errorf("--format github: exit %d\n%s", code, gh)
	}
	js, stderr, code := run("stats", "-o", "json")
	var s history.Stats
	if code != 0 || json.Unmarshal([]byte(js), &s) != nil {
		t.Fatalf("stats -o json: exit %d: %s\n%s", code, stderr, js)
	}
	if s.Fleet.Incidents != 1 || s.Fleet.MTTR.N != 1 || s.Fleet.MTTD.N != 1 {
		t.Errorf("stats does not count the demo's incident: %+v", s.Fleet)
	}
}

// TestPostmortemReadsTheBudgetTheIncidentSpent: for a record of the
// config's own stack, the draft's impact holds the SLO budget the
// incident consumed, read from a real Prometheus holding a month of
// history with a known two-hour incident.
func TestPostmortemReadsTheBudgetTheIncidentSpent(t *testing.T) {
	end := time.Now().Add(-30 * time.Second).Truncate(time.Second)
	day := 24 * time.Hour
	incident := end.Add(-9 * day).Truncate(day).Add(12 * time.Hour)
	h := testenv.SLOHistory{Job: "orders", End: end, Span: 30 * day, Step: time.Minute, RPS: 10, ErrorRatio: 0.0002,
		IncidentStart: incident, IncidentEnd: incident.Add(2 * time.Hour), IncidentRatio: 0.08}
	url := testenv.Prometheus(t, testenv.PrometheusOptions{OpenMetrics: h.OpenMetrics()})
	cfg := writeFile(t, "oncall.yaml", fmt.Sprintf(`datasources:
  prometheus: {url: %q}
slos:
  - name: orders-availability
    service: orders
    objective: 99.9
    window: 30d
    errors: http_requests_total{job="orders",code=~"5.."}
    total: http_requests_total{job="orders"}
`, url))
	data := t.TempDir()
	st, err := sqlstore.Open(context.Background(), filepath.Join(data, "oncall", "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	rec := history.Record{ID: "inc-0badf00d", Stack: defaultStack, Origin: history.OriginReconstructed, Title: "orders failing", Services: []string{"orders"},
		Detected: history.Stamp{T: incident.Add(2 * time.Minute), Source: "test"}, Resolved: history.Stamp{T: incident.Add(2 * time.Hour), Source: "test"},
		Alerts: []history.AlertSpan{{Name: "OrdersErrors", Service: "orders", Start: incident.Add(2 * time.Minute), End: incident.Add(2 * time.Hour), Source: "test"}}}
	if _, err := st.Save(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	st.Close()
	r := oncallAt(t, time.Now, map[string]string{"XDG_DATA_HOME": data}, "", "--config", cfg, "postmortem", rec.ID, "-o", "json")
	if r.code != 0 {
		t.Fatalf("postmortem: exit %d: %s", r.code, r.err)
	}
	var d history.Draft
	if err := json.Unmarshal([]byte(r.out), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Impact.Budget) == 0 || d.Impact.Budget[0].SLO != "orders-availability" || d.Impact.Budget[0].Share <= 0 {
		t.Errorf("the budget the incident spent: %+v (%s)", d.Impact.Budget, d.Impact.BudgetUnknown)
	}
}

// TestPostgresHistoryIsTheRemediationLedger: with history.dsn on a real
// PostgreSQL, runs from two hosts (two data directories, so no shared
// ledger file) share one ledger: the second is refused by the cooldown
// the first's claim started; and the history commands read the shared
// store.
func TestPostgresHistoryIsTheRemediationLedger(t *testing.T) {
	dsn := testenv.Postgres(t)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "runbooks"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeAt(t, filepath.Join(dir, "runbooks", "once.yaml"), "name: once\nmatch: {alerts: [Never]}\nactions:\n  - {name: act, kind: exec, argv: [true], danger: low, category: test}\n")
	cfg := writeAt(t, filepath.Join(dir, "config.yaml"), fmt.Sprintf("runbooks: ./runbooks\nhistory:\n  dsn: %s\n", dsn))
	for i, want := range []string{"Result: done", "refused by cooldown: act on svc ran at"} {
		host := map[string]string{"XDG_DATA_HOME": t.TempDir(), "USER": fmt.Sprintf("host%d", i)}
		r := oncallAt(t, time.Now, host, "", "--config", cfg, "runbook", "run", "once", "--target", "svc", "-y")
		if !strings.Contains(r.out, want) {
			t.Fatalf("run %d: exit %d, want %q\n%s\n%s", i+1, r.code, want, r.out, r.err)
		}
	}
	r := oncall(t, map[string]string{"XDG_DATA_HOME": t.TempDir()}, "", "--config", cfg, "history", "--offline")
	if r.code != 0 || !strings.Contains(r.out, "PostgreSQL") {
		t.Errorf("history on the shared store: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
}
