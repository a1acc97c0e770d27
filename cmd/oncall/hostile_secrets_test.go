package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// secretCore is in every secret of TestRunbookRunKeepsSecretsOffTheShell
// and in nothing else, so a secret leaked whole, escaped or in part is
// found by this one word.
const secretCore = "SEKRIT"

// bodyRecorder is a server that records the body of every request and
// answers with respond.
type bodyRecorder struct {
	URL    string
	mu     sync.Mutex
	bodies []string
}

func newBodyRecorder(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, body []byte)) *bodyRecorder {
	t.Helper()
	b := &bodyRecorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.bodies = append(b.bodies, string(body))
		b.mu.Unlock()
		respond(w, r, body)
	}))
	t.Cleanup(srv.Close)
	b.URL = srv.URL
	return b
}

func (b *bodyRecorder) received() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.bodies...)
}

// echo500 answers 500 with the whole request in its body, as a proxy's
// error page does.
func echo500(w http.ResponseWriter, r *http.Request, body []byte) {
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, "error handling %s %s\n", r.Method, r.URL.RequestURI())
	for k, v := range r.Header {
		fmt.Fprintf(w, "%s: %s\n", k, strings.Join(v, ","))
	}
	w.Write(body)
}

// TestRunbookRunKeepsSecretsOffTheShell runs, from the command line,
// runbooks whose request and argv carry secrets, each failing (a 500 that
// echoes the request, a redirect to another host, a program that prints
// its argv and exits 1) and escalating to targets that fail too (a Slack
// webhook that echoes its secret path, a webhook that redirects with its
// secret header, PagerDuty on a closed port). No secret reaches stdout,
// stderr, the audit log, `oncall audit` or an escalation's body; the
// redirect is not followed.
func TestRunbookRunKeepsSecretsOffTheShell(t *testing.T) {
	other := newBodyRecorder(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { w.WriteHeader(http.StatusOK) })
	redirect := func(w http.ResponseWriter, r *http.Request, _ []byte) {
		http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}
	api := newBodyRecorder(t, echo500)
	hop := newBodyRecorder(t, redirect)
	slack := newBodyRecorder(t, echo500)
	hook := newBodyRecorder(t, redirect)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()

	dir := t.TempDir()
	write := func(p, s string, mode os.FileMode) string {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	leaky := write(filepath.Join(dir, "leaky"), "#!/bin/sh\nprintf '%s\\n' \"$0\" \"$@\"\necho \"error: login failed for $*\" >&2\nexit 1\n", 0o700)
	rbDir := filepath.Join(dir, "runbooks")
	if err := os.Mkdir(rbDir, 0o700); err != nil {
		t.Fatal(err)
	}
	httpRunbook := func(name, base string) string {
		return `name: ` + name + `
match: {alerts: [Cold]}
actions:
  - name: call
    kind: http
    http:
      method: POST
      url: '` + base + `/api/warm/{{secret "WARM_TOKEN"}}?code={{secret "FN_KEY"}}'
      headers: {X-Api-Key: '{{secret "API_KEY"}}'}
      body: '{"token": "{{secret "BODY_TOKEN"}}"}'
    danger: low
    category: cache
    on_failure: [escalate]
`
	}
	write(filepath.Join(rbDir, "warm.yaml"), httpRunbook("warm", api.URL), 0o600)
	write(filepath.Join(rbDir, "hop.yaml"), httpRunbook("hop", hop.URL), 0o600)
	write(filepath.Join(rbDir, "login.yaml"), `name: login
match: {alerts: [Cold]}
actions:
  - name: login
    kind: exec
    argv: [`+leaky+`, '--password={{secret "EXEC_PW"}}']
    danger: low
    category: restart
    on_failure: [escalate]
`, 0o600)
	audit := filepath.Join(dir, "audit.jsonl")
	cfg := write(filepath.Join(dir, "config.yaml"), `runbooks: ./runbooks
remediation:
  audit_log: `+audit+`
  escalation:
    - {name: chat, kind: slack, url: "`+slack.URL+`/services/T0/B0/hook-`+secretCore+`-slack"}
    - {name: hook, kind: webhook, url: "`+hook.URL+`/hook-`+secretCore+`-webhook", headers: {X-Api-Key: "hk-`+secretCore+`-webhook"}}
    - {name: pd, kind: pagerduty, url: "`+closed+`", routing_key: "rk-`+secretCore+`-pd"}
`, 0o600)
	vars := map[string]string{"USER": "tester",
		"WARM_TOKEN": "wt-" + secretCore + "-warm", "FN_KEY": "fk+/=" + secretCore + "-fn", "API_KEY": "ak-" + secretCore + "-api",
		"BODY_TOKEN": "bt-" + secretCore + "-body", "EXEC_PW": "pw-" + secretCore + "-exec"}

	var shown strings.Builder
	for _, rb := range []string{"warm", "hop", "login"} {
		for _, output := range []string{"text", "json"} {
			// a data directory of its own: the cooldown of one run does not refuse the next
			vars["XDG_DATA_HOME"] = t.TempDir()
			r := oncall(t, vars, "", "--config", cfg, "runbook", "run", rb, "--target", "api", "-y", "-o", output)
			if r.code != 1 || !strings.Contains(r.out+r.err, "escalated") {
				t.Errorf("%s -o %s: exit %d, want 1 and escalated", rb, output, r.code)
			}
			fmt.Fprintf(&shown, "$ oncall runbook run %s -o %s\n%s%s", rb, output, r.out, r.err)
		}
	}
	for _, output := range []string{"text", "json"} {
		r := oncall(t, vars, "", "--config", cfg, "audit", "-o", output)
		fmt.Fprintf(&shown, "$ oncall audit -o %s\n%s%s", output, r.out, r.err)
	}
	out := shown.String()
	for _, want := range []string{"/api/warm/‹secret:WARM_TOKEN›?code=‹secret:FN_KEY›", "HTTP 500 Internal Server Error", "HTTP 307 Temporary Redirect", "exited with 1",
		"chat (slack): HTTP 500", "‹secret:chat url path›", "hook (webhook): HTTP 307", "pd (pagerduty): connection refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the shell's output", want)
		}
	}
	for i, line := range strings.Split(out, "\n") {
		if strings.Contains(line, secretCore) {
			t.Errorf("shell output line %d: %s", i+1, line)
		}
	}
	logged, err := os.ReadFile(audit)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(logged), secretCore) {
		t.Errorf("audit log:\n%s", logged)
	}
	if len(slack.received()) != 6 || len(hook.received()) != 6 {
		t.Errorf("escalations received: %d by chat, %d by hook, want 6 each", len(slack.received()), len(hook.received()))
	}
	for _, body := range append(slack.received(), hook.received()...) {
		if strings.Contains(body, secretCore) {
			t.Errorf("escalation body: %s", body)
		}
	}
	if got := other.received(); len(got) > 0 {
		t.Errorf("a redirect was followed: the other host got %q", got)
	}
	if t.Failed() {
		t.Logf("the shell showed:\n%s", out)
	}
	// each run: its action and its escalation
	var rows []json.RawMessage
	if r := oncall(t, vars, "", "--config", cfg, "audit", "-o", "json"); json.Unmarshal([]byte(r.out), &rows) != nil || len(rows) != 12 {
		t.Errorf("audit -o json: %d rows, want 12:\n%s", len(rows), r.out)
	}
}
