package remediate

import (
	"context"
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
	"time"

	"github.com/oncall-cockpit/oncall/internal/timeparse"
	"github.com/oncall-cockpit/oncall/sources"
	"github.com/oncall-cockpit/oncall/sources/alertmanager"
)

// secretCore is in every secret value of these tests and in nothing else:
// a secret that leaks whole, escaped or in part is found by this one word.
const secretCore = "SEKRIT"

// actionSecrets are the environment the runbooks' {{secret}} calls read.
// FN_KEY changes when a URL escapes it, so its escaped forms are looked
// for too.
var actionSecrets = map[string]string{
	"WARM_TOKEN":   "wt-9c1f-" + secretCore + "-warm",
	"FN_KEY":       "fk+/=" + secretCore + "-fn",
	"API_KEY":      "ak-" + secretCore + "-api",
	"BEARER":       "br-" + secretCore + "-bearer",
	"BODY_TOKEN":   "bt-" + secretCore + "-body",
	"EXEC_PW":      "pw-" + secretCore + "-exec",
	"SILENCE_NOTE": "sn-" + secretCore + "-silence",
	"SIM_KEY":      "sk-" + secretCore + "-sim",
}

// hostileServer is an HTTP server that fails in one way and records
// every request it gets.
type hostileServer struct {
	URL    string
	mu     sync.Mutex
	bodies []string // of each request, in order
}

// record keeps the request's body and returns the whole request as text.
func (h *hostileServer) record(r *http.Request) string {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.bodies = append(h.bodies, string(b))
	h.mu.Unlock()
	var s strings.Builder
	fmt.Fprintf(&s, "%s %s\n", r.Method, r.URL.RequestURI())
	for k, v := range r.Header {
		fmt.Fprintf(&s, "%s: %s\n", k, strings.Join(v, ","))
	}
	s.Write(b)
	return s.String()
}

// requests are the bodies of the requests the server got.
func (h *hostileServer) requests() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.bodies...)
}

// Ways a server fails.
const (
	failClosed   = "closed port"
	failEcho500  = "500 echoing the request"
	failHang     = "timeout"
	failRedirect = "307 to another host"
	failNone     = "accepts"
)

// newHostileServer starts a server that fails as asked: a 500 whose body
// echoes the whole request (a proxy's error page), a response that never
// comes, or a 307 to other with the request's path and query. failClosed
// is an address nothing listens on.
func newHostileServer(t *testing.T, fail string, other *hostileServer) *hostileServer {
	t.Helper()
	h := &hostileServer{}
	if fail == failClosed {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		h.URL = "http://" + l.Addr().String()
		l.Close()
		return h
	}
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := h.record(r)
		switch fail {
		case failEcho500:
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, "internal error handling:\n"+got)
		case failHang:
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		case failRedirect:
			http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) }) // runs first: a hanging handler returns
	h.URL = srv.URL
	return h
}

// echoActuator is a simulator that refuses every action and says what it
// was asked, parameters included.
type echoActuator struct{}

func (echoActuator) Act(_ context.Context, a sources.Action) (sources.Change, error) {
	return sources.Change{}, fmt.Errorf("cannot %s %s with %v", a.Kind, a.Service, a.Params)
}

// secretRun is what one run showed, stored and sent.
type secretRun struct {
	out    Outcome
	events []string
	audit  string
}

// runForSecrets plans and runs rb on api with the escalator, the
// Alertmanager at am and the environment's secrets, and keeps every
// output.
func runForSecrets(t *testing.T, rb *Runbook, esc *Escalator, am string) secretRun {
	t.Helper()
	now := func() time.Time { return time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC) }
	ledger := &MemoryLedger{Now: now}
	var src sources.Set
	if am != "" {
		c, err := alertmanager.New(am, &http.Client{}, sources.DefaultConventions())
		if err != nil {
			t.Fatal(err)
		}
		src.Alerts = c
	}
	var mu sync.Mutex
	var run secretRun
	x := Executor{Sources: src, Actuator: echoActuator{}, Guard: &Guard{Ledger: ledger, Now: now}, Audit: &Audit{Path: filepath.Join(t.TempDir(), "audit.jsonl")},
		Escalate: esc, HTTP: &http.Client{}, Getenv: os.LookupEnv, Now: now, Wait: SleepWait, User: "tester", Host: "h",
		Report: func(e Event) {
			mu.Lock()
			run.events = append(run.events, e.Line)
			mu.Unlock()
		}}
	p := (&Planner{Ledger: ledger, Now: now}).Plan(bg, Matched{Runbook: rb, Name: rb.Name, Service: "api"}, nil)
	if len(p.Problems) > 0 {
		t.Fatalf("plan: %v", p.Problems)
	}
	run.out = x.Run(bg, p, "test", false)
	for _, a := range run.out.Actions {
		t.Logf("outcome: %s", a)
	}
	for _, e := range run.out.Escalation {
		t.Logf("escalation: %s", e)
	}
	b, err := os.ReadFile(x.Audit.Path)
	if err != nil {
		t.Fatal(err)
	}
	run.audit = string(b)
	return run
}

// leaks names each place among what was shown, stored or sent that holds
// a secret.
func (r secretRun) leaks() []string {
	var bad []string
	look := func(where, s string) {
		if strings.Contains(s, secretCore) {
			bad = append(bad, fmt.Sprintf("%s: %q", where, s))
		}
	}
	j, _ := json.Marshal(r.out)
	look("outcome JSON", string(j))
	for _, a := range r.out.Actions {
		look("outcome line", a.String())
	}
	for _, e := range r.out.Escalation {
		look("escalation result", e)
	}
	for _, e := range r.events {
		look("event", e)
	}
	look("audit log", r.audit)
	return bad
}

// withoutRoutingKey is an escalation body without the one secret it must
// carry: PagerDuty's routing key, sent to PagerDuty alone.
func withoutRoutingKey(body string) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return body
	}
	delete(m, "routing_key")
	b, _ := json.Marshal(m)
	return string(b)
}

// writeLeakyProgram writes a program that prints its argv and
// environment and exits 1: what a failing CLI does with the password it
// was given.
func writeLeakyProgram(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "leaky")
	if err := os.WriteFile(p, []byte("#!/bin/sh\nprintf '%s\\n' \"$0\" \"$@\"\nenv\necho \"error: login failed for $*\" >&2\nexit 1\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestActionSecretsStaySecretWhateverFails runs every kind of action with
// secrets in it (in the URL path and query, in headers and body, in argv,
// in a silence's comment and in a simulator parameter), failing in every
// way, and escalating: no secret reaches the outcome, its JSON, the events
// reported, the audit log or the escalations sent. The request is shown
// with each secret as ‹secret:NAME›, and a redirect to another host is not
// followed: the credentials never reach it.
func TestActionSecretsStaySecretWhateverFails(t *testing.T) {
	httpAction := func(base string) Action {
		return Action{Name: "warm", Spec: Spec{Kind: KindHTTP, HTTP: &HTTPSpec{Method: "post",
			URL:     base + `/api/warm/{{secret "WARM_TOKEN"}}?code={{secret "FN_KEY"}}`,
			Headers: map[string]string{"X-Api-Key": `{{secret "API_KEY"}}`, "Authorization": `Bearer {{secret "BEARER"}}`},
			Body:    `{"token": "{{secret "BODY_TOKEN"}}"}`}}}
	}
	leaky := writeLeakyProgram(t)
	type tc struct {
		name   string
		action func(t *testing.T) (Action, string) // the action and the Alertmanager it uses
		want   string                              // in the action's error
	}
	var cases []tc
	for _, fail := range []string{failClosed, failEcho500, failHang, failRedirect} {
		cases = append(cases, tc{name: "http " + fail, action: func(t *testing.T) (Action, string) {
			other := newHostileServer(t, failNone, nil)
			t.Cleanup(func() {
				if got := other.requests(); len(got) > 0 {
					t.Errorf("the redirect was followed: the other host got %q", got)
				}
			})
			return httpAction(newHostileServer(t, fail, other).URL), ""
		}, want: map[string]string{failClosed: "connection refused", failEcho500: "500", failHang: "timed out after 1s",
			failRedirect: `307 Temporary Redirect, to http://127.0.0.1`}[fail]})
	}
	cases = append(cases,
		tc{name: "exec that prints its argv and exits 1", action: func(*testing.T) (Action, string) {
			return Action{Name: "login", Spec: Spec{Kind: KindExec, Argv: []string{leaky, `--password={{secret "EXEC_PW"}}`, `--url=https://u:{{secret "EXEC_PW"}}@db`}}}, ""
		}, want: "exited with 1"},
		tc{name: "exec not found", action: func(*testing.T) (Action, string) {
			return Action{Name: "login", Spec: Spec{Kind: KindExec, Argv: []string{`/nonexistent/pw={{secret "EXEC_PW"}}/login`}}}, ""
		}, want: "no such file"},
		tc{name: "exec timeout", action: func(*testing.T) (Action, string) {
			return Action{Name: "login", Spec: Spec{Kind: KindExec, Argv: []string{"sh", "-c", `printf '%s\n' "$1"; exec sleep 60`, "sh", `--password={{secret "EXEC_PW"}}`}}}, ""
		}, want: "timed out after 1s: its process group was killed"},
	)
	for _, fail := range []string{failClosed, failEcho500} {
		cases = append(cases, tc{name: "silence " + fail, action: func(t *testing.T) (Action, string) {
			return Action{Name: "hush", Spec: Spec{Kind: KindSilence, Silence: &SilenceSp{Matchers: `service="api"`, For: timeparse.Duration(time.Hour),
				Comment: `paged with {{secret "SILENCE_NOTE"}}`}}}, newHostileServer(t, fail, nil).URL
		}, want: "alertmanager"})
	}
	cases = append(cases, tc{name: "sim refused, rolled back by a 500", action: func(t *testing.T) (Action, string) {
		rb := httpAction(newHostileServer(t, failEcho500, nil).URL).Spec
		return Action{Name: "resize", Spec: Spec{Kind: KindSim, Sim: &SimSpec{Action: "resize-pool", Service: "{{.Target}}", Params: map[string]string{"key": `{{secret "SIM_KEY"}}`}}},
			Rollback: &rb, OnFailure: []string{OnFailureRollback}}, ""
	}, want: "cannot resize-pool"})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, am := c.action(t)
			// the environment holds the secrets the action reads, no
			// other: a program printing its environment shows them all
			spec, _ := json.Marshal(a)
			for k, v := range actionSecrets {
				if strings.Contains(string(spec), `\"`+k+`\"`) {
					t.Setenv(k, v)
				}
			}
			receiver := newHostileServer(t, failNone, nil)
			esc := &Escalator{HTTP: &http.Client{}, Targets: []EscalationTarget{
				{Name: "pd", Kind: EscalatePagerDuty, URL: receiver.URL + "/pd", RoutingKey: "rk-0123456789"},
				{Name: "chat", Kind: EscalateSlack, URL: receiver.URL + "/slack"},
				{Name: "hook", Kind: EscalateWebhook, URL: receiver.URL + "/hook"},
			}}
			a.Danger, a.Category, a.Timeout = DangerLow, "test", timeparse.Duration(time.Second)
			a.OnFailure = append(a.OnFailure, OnFailureEscalate)
			run := runForSecrets(t, &Runbook{Name: "secrets", File: "inline", Actions: []Action{a}}, esc, am)

			if run.out.Result != ResultEscalated || len(run.out.Actions) == 0 || run.out.Actions[0].Error == "" {
				t.Fatalf("the action did not fail and escalate: %+v", run.out)
			}
			if got := run.out.Actions[0].Error; !strings.Contains(got, c.want) {
				t.Errorf("error %q: want %q in it", got, c.want)
			}
			if a.Kind == KindHTTP && !strings.Contains(run.out.Actions[0].Shown, "/api/warm/‹secret:WARM_TOKEN›?code=‹secret:FN_KEY›") {
				t.Errorf("shown %q: the secrets are not named", run.out.Actions[0].Shown)
			}
			if c.name == "http "+failRedirect && !strings.Contains(run.out.Actions[0].Error, "/api/warm/‹secret:WARM_TOKEN›?code=‹secret:FN_KEY›") {
				t.Errorf("the redirect's target does not name the secrets it carries: %q", run.out.Actions[0].Error)
			}
			for _, l := range run.leaks() {
				t.Error(l)
			}
			sent := receiver.requests()
			if len(sent) != 3 {
				t.Fatalf("%d escalations received, want 3", len(sent))
			}
			for _, s := range sent {
				if strings.Contains(withoutRoutingKey(s), secretCore) {
					t.Errorf("escalation body: %s", s)
				}
			}
		})
	}
}

// TestEscalationSecretsStaySecretWhateverFails escalates to targets of
// every kind, each failing in every way, whose URLs, routing keys and
// headers are secrets: the outcome, the events and the audit log name
// each target and how it failed, and hold none of its secrets; no target
// is told another's; a redirect is not followed, so its headers never
// reach the other host.
func TestEscalationSecretsStaySecretWhateverFails(t *testing.T) {
	other := newHostileServer(t, failNone, nil)
	var targets []EscalationTarget
	servers := map[string]*hostileServer{}
	for _, fail := range []string{failClosed, failEcho500, failHang, failRedirect} {
		for _, kind := range []string{EscalatePagerDuty, EscalateSlack, EscalateWebhook} {
			s := newHostileServer(t, fail, other)
			name := kind + " " + fail
			servers[name] = s
			id := strings.ReplaceAll(fail, " ", "_")
			targets = append(targets, EscalationTarget{Name: name, Kind: kind,
				URL:        s.URL + "/services/T0/B0/hook-" + secretCore + "-" + kind + "-" + id + "?sig=sig-" + secretCore + "-" + kind + "-" + id,
				RoutingKey: "rk-" + secretCore + "-" + kind + "-" + id,
				Headers:    map[string]string{"X-Api-Key": "hk-" + secretCore + "-" + kind + "-" + id, "Authorization": "Bearer ab-" + secretCore + "-" + kind + "-" + id}})
		}
	}
	// an escalation waits no longer than this for a target that hangs
	const hangFor = 2 * time.Second
	esc := &Escalator{HTTP: &http.Client{Timeout: hangFor}, Targets: targets}
	a := Action{Name: "resize", Spec: Spec{Kind: KindSim, Sim: &SimSpec{Action: "resize-pool", Service: "{{.Target}}"}},
		Danger: DangerLow, Category: "test", OnFailure: []string{OnFailureEscalate}}
	run := runForSecrets(t, &Runbook{Name: "secrets", File: "inline", Actions: []Action{a}}, esc, "")

	if run.out.Result != ResultEscalated || len(run.out.Escalation) != len(targets) {
		t.Fatalf("outcome %+v", run.out)
	}
	want := map[string]string{failClosed: "connection refused", failEcho500: "500 Internal Server Error", failHang: "deadline exceeded", failRedirect: "307 Temporary Redirect, to http://127.0.0.1"}
	for i, tg := range targets {
		got := run.out.Escalation[i]
		fail := strings.TrimPrefix(tg.Name, tg.Kind+" ")
		if !strings.HasPrefix(got, tg.Name+" ("+tg.Kind+"): ") || !strings.Contains(got, want[fail]) {
			t.Errorf("%s: %q, want %q in it", tg.Name, got, want[fail])
		}
		if fail == failRedirect && !strings.Contains(got, "‹secret:"+tg.Name+" url path›") {
			t.Errorf("%s: the redirect's target does not name the secret it carries: %q", tg.Name, got)
		}
		for _, body := range servers[tg.Name].requests() {
			// the target's own URL and headers arrive as they must; its
			// body holds no secret, nor any other target's
			if tg.Kind == EscalatePagerDuty && !strings.Contains(body, tg.RoutingKey) {
				t.Errorf("%s: no routing key in %s", tg.Name, body)
			}
			if strings.Contains(withoutRoutingKey(body), secretCore) {
				t.Errorf("%s was sent %s", tg.Name, body)
			}
		}
	}
	if got := other.requests(); len(got) > 0 {
		t.Errorf("a redirect was followed: the other host got %q", got)
	}
	for _, l := range run.leaks() {
		t.Error(l)
	}
}

// TestEscalationErrorsKeepWhatIsNotSecret: every header value and every
// URL path of the escalation targets was scrubbed, so "application/json"
// and PagerDuty's /v2/enqueue in an error became ‹secret:…›, and the
// error said nothing. Scrubbed are the sensitive headers, a URL's
// password, query values, a webhook's path (Slack's carries its secret)
// and the routing key; not the rest.
func TestEscalationErrorsKeepWhatIsNotSecret(t *testing.T) {
	x := &Escalator{Targets: []EscalationTarget{
		{Name: "pd", Kind: EscalatePagerDuty, RoutingKey: "rk-" + secretCore + "-pd",
			Headers: map[string]string{"Content-Type": "application/json", "authorization": "Token token=tk-" + secretCore + "-pd"}},
		{Name: "pd-eu", Kind: EscalatePagerDuty, URL: "https://events.eu.pagerduty.com/v2/enqueue", RoutingKey: "rk-" + secretCore + "-eu"},
		{Name: "chat", Kind: EscalateSlack, URL: "https://hooks.slack.com/services/T0/B0/sl-" + secretCore},
		{Name: "hook", Kind: EscalateWebhook, URL: "https://u:pw-" + secretCore + "@hooks.example.com/in/wh-" + secretCore + "?team=sre&code=qc-" + secretCore,
			Headers: map[string]string{"X-Api-Key": "ak-" + secretCore, "Accept": "application/json"}},
	}}
	said := strings.Join([]string{
		`Post "` + DefaultPagerDutyURL + `": 400 Bad Request: {"routing_key":"rk-` + secretCore + `-pd","status":"invalid"}`,
		`Post "https://events.eu.pagerduty.com/v2/enqueue": Content-Type application/json, Authorization Token token=tk-` + secretCore + `-pd, key rk-` + secretCore + `-eu`,
		`Post "https://hooks.slack.com/services/T0/B0/sl-` + secretCore + `": 404 Not Found`,
		`Post "https://u:pw-` + secretCore + `@hooks.example.com/in/wh-` + secretCore + `?team=sre&code=qc-` + secretCore + `": X-Api-Key ak-` + secretCore + ` Accept application/json`,
	}, "\n")
	got := x.secrets().scrub(said)
	if strings.Contains(got, secretCore) {
		t.Errorf("a secret is left:\n%s", got)
	}
	for _, kept := range []string{"https://events.pagerduty.com/v2/enqueue", "https://events.eu.pagerduty.com/v2/enqueue", "Content-Type application/json",
		"Accept application/json", "https://hooks.slack.com", "@hooks.example.com", "&code="} {
		if !strings.Contains(got, kept) {
			t.Errorf("%q was scrubbed, and is no secret:\n%s", kept, got)
		}
	}
	for _, named := range []string{"‹secret:pd routing_key›", "‹secret:pd headers.authorization›", "‹secret:chat url path›", "‹secret:hook url password›",
		"‹secret:hook url path›", "‹secret:hook url query code›", "‹secret:hook headers.X-Api-Key›"} {
		if !strings.Contains(got, named) {
			t.Errorf("%s is not named:\n%s", named, got)
		}
	}
}
