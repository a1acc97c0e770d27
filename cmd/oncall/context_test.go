package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
)

// amNamed is an Alertmanager whose one alert says which stack it is.
func amNamed(t *testing.T, stack string, posts *atomic.Int32) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/api/v2/silences":
			posts.Add(1)
			w.Write([]byte(`{"silenceID":"s-` + stack + `"}`))
		case r.URL.Path == "/api/v2/alerts":
			w.Write([]byte(`[{"labels":{"alertname":"Down` + stack + `","service":"api"},"startsAt":"2026-11-25T02:50:00Z","status":{"state":"active"}}]`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestContextsSwitchStacks(t *testing.T) {
	var prodPosts, stagingPosts atomic.Int32
	cfg := writeFile(t, "config.yaml", `# the team's stacks
current-context: staging
contexts:
  prod:
    confirm: typed
    color: "#d55e00"
    datasources:
      alertmanager: {url: `+amNamed(t, "prod", &prodPosts)+`}
  staging:
    datasources:
      alertmanager: {url: `+amNamed(t, "staging", &stagingPosts)+`}
  audit:
    read_only: true
    datasources:
      alertmanager: {url: `+amNamed(t, "audit", &prodPosts)+`}
`)
	alerts := func(args ...string) string {
		r := oncall(t, nil, "", append([]string{"alerts", "--config", cfg}, args...)...)
		if r.code != 0 {
			t.Fatalf("%v: %+v", args, r)
		}
		return r.out
	}
	if out := alerts(); !strings.Contains(out, "Downstaging") {
		t.Errorf("current-context staging:\n%s", out)
	}
	if out := alerts("--context", "prod"); !strings.Contains(out, "Downprod") {
		t.Errorf("--context prod:\n%s", out)
	}
	if r := oncall(t, map[string]string{"ONCALL_CONTEXT": "prod"}, "", "alerts", "--config", cfg); !strings.Contains(r.out, "Downprod") {
		t.Errorf("$ONCALL_CONTEXT: %+v", r)
	}
	if r := oncall(t, nil, "", "alerts", "--config", cfg, "--context", "prd"); r.code != 2 || !strings.Contains(r.err, `did you mean "prod"?`) {
		t.Errorf("unknown context: %+v", r)
	}
	r := oncall(t, nil, "", "config", "get-contexts", "--config", cfg)
	if !strings.Contains(r.out, "*        staging") || !strings.Contains(r.out, "actions need the name typed") || !strings.Contains(r.out, "read-only") {
		t.Errorf("get-contexts:\n%s", r.out)
	}

	// prod wants its name typed: y is not enough, --yes is refused
	add := []string{"silences", "add", "--config", cfg, "--context", "prod", "alertname=X", "-c", "c", "--author", "a"}
	for _, answer := range []string{"y\n", "yes\n", "staging\n"} {
		if r := oncall(t, nil, answer, add...); r.code != 1 || !strings.Contains(r.err, "type prod to go ahead") {
			t.Errorf("answer %q: %+v", answer, r)
		}
	}
	if r := oncall(t, nil, "", append(add, "-y")...); r.code != 1 || !strings.Contains(r.err, "--yes is refused") {
		t.Errorf("-y in a typed context: %+v", r)
	}
	if prodPosts.Load() != 0 {
		t.Fatal("a silence was created in prod without the name typed")
	}
	if r := oncall(t, nil, "prod\n", add...); r.code != 0 || prodPosts.Load() != 1 || stagingPosts.Load() != 0 {
		t.Errorf("typed prod: %+v", r)
	}
	// a read-only context refuses every action
	if r := oncall(t, nil, "y\n", "silences", "add", "--config", cfg, "--context", "audit", "alertname=X", "-c", "c"); r.code != 1 || !strings.Contains(r.err, "read-only") {
		t.Errorf("read-only context: %+v", r)
	}

	// use-context changes that one line and keeps the rest
	before, _ := os.ReadFile(cfg)
	if r := oncall(t, nil, "", "config", "use-context", "prod", "--config", cfg); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	after, _ := os.ReadFile(cfg)
	if string(after) != strings.Replace(string(before), "current-context: staging", `current-context: "prod"`, 1) {
		t.Errorf("use-context rewrote more than its line:\n%s", after)
	}
	if out := alerts(); !strings.Contains(out, "Downprod") {
		t.Errorf("after use-context prod:\n%s", out)
	}
	if r := oncall(t, nil, "", "config", "use-context", "nosuch", "--config", cfg); r.code != 2 {
		t.Errorf("use-context nosuch: %+v", r)
	}
}

// TestDynamicCompletion asks the shell completion what the shells ask.
func TestDynamicCompletion(t *testing.T) {
	complete := func(args ...string) string {
		r := oncall(t, nil, "", append([]string{"__complete"}, args...)...)
		if r.code != 0 {
			t.Fatalf("%v: %+v", args, r)
		}
		return r.out
	}
	if out := complete("incident", "--demo", ""); !strings.Contains(out, "retry-storm\t") || !strings.Contains(out, "db-pool-exhaustion") {
		t.Errorf("scenarios:\n%s", out)
	}
	if out := complete("demo", "--scenario", ""); !strings.Contains(out, "cache-miss-storm") {
		t.Errorf("demo scenarios:\n%s", out)
	}
	var posts atomic.Int32
	cfg := writeFile(t, "config.yaml", "contexts:\n  prod:\n    read_only: true\n    datasources:\n      alertmanager: {url: "+amNamed(t, "prod", &posts)+"}\n")
	if out := complete("--config", cfg, "alerts", "--context", ""); !strings.Contains(out, "prod\tread-only") {
		t.Errorf("contexts:\n%s", out)
	}
	if out := complete("--config", cfg, "--context", "prod", "alerts", ""); !strings.Contains(out, "Downprod") {
		t.Errorf("alert names:\n%s", out)
	}
	// a name is data: the shell shows it, and it cannot drive the terminal
	hostile := writeFile(t, "hostile.yaml", "slos:\n  - {name: \"bad\\e]52;c;QQ==\\aname\", service: \"s\\e[2J\", objective: 99.9, window: 28d}\n")
	if out := complete("--config", hostile, "slo", "show", ""); strings.ContainsAny(out, "\x1b\x07") || !strings.Contains(out, "badname") {
		t.Errorf("SLO names drive the terminal: %q", out)
	}
}
