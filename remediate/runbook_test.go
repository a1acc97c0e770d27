package remediate

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
	"github.com/oncall-cockpit/oncall/sources"
)

func TestShippedRunbooksAreValid(t *testing.T) {
	if rbs := simRunbooks(t); len(rbs) < 6 {
		t.Errorf("%d simulator runbooks", len(rbs))
	}
	rbs, err := LoadDir(filepath.Join(testenv.RepoRoot(t), "testdata", "runbooks"))
	if err != nil || len(rbs) < 4 {
		t.Fatalf("%d runbooks: %v", len(rbs), err)
	}
}

// TestValidationNamesFileAndLine reports every problem of a file, each at
// its line.
func TestValidationNamesFileAndLine(t *testing.T) {
	src := `name: broken
match:
  alerts: [X]
diagnose:
  - name: look
    logs: {grep: timeout}
    when: {above: 3}
    then: [nosuch]
actions:
  - name: fix
    kind: exec
    argv: [sh, -c, "kubectl delete pod {{.Labels.pod}}"]
    danger: medium
    category: restart
  - name: call
    kind: http
    http: {method: POST, url: "http://x/{{.Target"}
    danger: low
    category: traffic
`
	_, ps := Parse([]byte(src), "runbooks/broken.yaml")
	want := []struct {
		line int
		sub  string
	}{
		{10, "sh command string"},
		{10, `danger "medium"`},
		{15, "http.url"},
		{5, `then "nosuch": no such action`},
	}
	for _, w := range want {
		found := false
		for _, p := range ps {
			if p.File == "runbooks/broken.yaml" && p.Line == w.line && strings.Contains(p.Msg, w.sub) {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem at line %d with %q in:\n%v", w.line, w.sub, ps)
		}
	}
	if _, ps := Parse([]byte("name: x\nmatch: {alerts: [A]}\nactions: []\nbogus: 1\n"), "f.yaml"); len(ps) != 1 || ps[0].Line != 4 || !strings.Contains(ps[0].Msg, "bogus") {
		t.Errorf("unknown field: %v", ps)
	}
}

// TestRunbookDurationsReadAsTheConfigReadsThem: a silence for a day is
// written 1d, as in the config, and a bad duration names its line.
func TestRunbookDurationsReadAsTheConfigReadsThem(t *testing.T) {
	const head = "name: x\nmatch: {alerts: [A]}\nactions:\n  - name: hush\n    kind: silence\n    danger: low\n    category: test\n"
	rb, ps := Parse([]byte(head+"    silence: {for: 1d, matchers: 'service=\"api\"'}\n"), "f.yaml")
	if len(ps) > 0 || rb.Actions[0].Silence.For != timeparse.Duration(24*time.Hour) {
		t.Fatalf("%v %+v", ps, rb)
	}
	for in, want := range map[string]string{
		"a day": `"a day" is not a duration`,
		"-1h":   `"-1h" is not a duration`,
	} {
		_, ps := Parse([]byte(head+"    silence:\n      matchers: 'service=\"api\"'\n      for: "+in+"\n"), "f.yaml")
		if len(ps) != 1 || ps[0].Line != 10 || !strings.Contains(ps[0].Msg, want) {
			t.Errorf("for: %s gave %v, want line 10: %s", in, ps, want)
		}
	}
}

// TestValidationRefusesShellTemplates: a template inside a shell's
// command string would let a value become shell syntax.
func TestValidationRefusesShellTemplates(t *testing.T) {
	refused := [][]string{
		{"sh", "-c", "kubectl rollout restart {{.Target}}"},
		{"/bin/bash", "-lc", "echo {{.Labels.x}}"},
		{"env", "FOO=1", "sh", "-c", "x {{.Target}}"},
		{"sudo", "-u", "ops", "bash", "-c", "x {{.Target}}"},
		{"{{.Labels.program}}", "restart"},
		{"env", "{{.Labels.program}}"},
		{"pwsh", "-Command", "Restart-Service {{.Target}}"},
	}
	for _, argv := range refused {
		a := Action{Name: "a", Spec: Spec{Kind: KindExec, Argv: argv}, Danger: DangerLow, Category: "restart"}
		if ps := a.validate(); len(ps) == 0 {
			t.Errorf("%q was accepted", argv)
		}
	}
	allowed := [][]string{
		{"kubectl", "rollout", "restart", "deployment/{{.Target}}"},
		{"sh", "-c", "systemctl restart nginx"}, // a fixed script
		{"env", "KUBECONFIG=/etc/k", "kubectl", "scale", "--replicas=2", "deployment/{{.Target}}"},
	}
	for _, argv := range allowed {
		a := Action{Name: "a", Spec: Spec{Kind: KindExec, Argv: argv}, Danger: DangerLow, Category: "restart"}
		if ps := a.validate(); len(ps) != 0 {
			t.Errorf("%q was refused: %v", argv, ps)
		}
	}
}

// hostile values as they come from labels and log lines.
var hostile = []string{"; rm -rf /", "$(touch PWNED)", "`touch PWNED`", "a\nb", "--kubeconfig=/x", "' OR '1'='1", "\x1b]0;title\x07", "* ~ $HOME"}

// TestInjectionStaysOneArgument: whatever reaches an argv item (no typed
// input lets these through now; this is the executor's own guarantee),
// each value reaches the program as one argument, exactly, and nothing of
// it is executed.
func TestInjectionStaysOneArgument(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	printf, err := exec.LookPath("printf")
	if err != nil {
		t.Fatal(err)
	}
	spec := Spec{Kind: KindExec, Argv: []string{printf, `[%s]\n`, "--", "{{.Inputs.a}}", "--namespace={{.Inputs.a}}"}}
	k, _ := simKit(t, "quiet", time.Minute, nil, nil)
	for _, h := range hostile {
		c, err := renderer{vars: Vars{Inputs: map[string]string{"a": h}}}.renderSpec(spec, "u", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{printf, `[%s]\n`, "--", h, "--namespace=" + h}; !slices.Equal(c.Argv, want) {
			t.Fatalf("argv %q, want %q", c.Argv, want)
		}
		if strings.ContainsAny(c.String(), "\n\x1b\x07") {
			t.Errorf("%q shown raw: %q", h, c.String())
		}
		var out []string
		x := k.Exec
		x.Report = func(e Event) {
			if !e.Status {
				out = append(out, e.Line)
			}
		}
		if res := x.execute(bg, "echo", c, time.Minute); res.err != nil {
			t.Fatalf("%q: %v", h, res.err)
		}
		// printf prints each argument in brackets: three arguments, whole
		if joined := strings.Join(out, "\n"); strings.Count(joined, "[") != 3 {
			t.Errorf("%q: output %q", h, joined)
		}
		if _, err := os.Stat(filepath.Join(dir, "PWNED")); err == nil {
			t.Fatalf("%q was executed", h)
		}
	}
}

// TestRenderedRequestKeepsValuesInert: a label with a path in it is not a
// namespace, a number in a JSON body must be an integer, and a secret is
// shown by name and sent by value.
func TestRenderedRequestKeepsValuesInert(t *testing.T) {
	rb := testdataRunbook(t, "k8s-scale")
	alert := sources.Alert{Name: "KubeDeploymentSaturated", Labels: sources.Labels{"namespace": "prod/../kube-system", "deployment": "web", "replicas": "4", "target_replicas": "8", "severity": "page"}}
	if _, err := rb.bind(&rb.Actions[1], Vars{Target: "web", Labels: alert.Labels}); err == nil || !strings.Contains(err.Error(), "input namespace (k8s-name)") {
		t.Fatalf("a namespace with a path in it: %v", err)
	}
	alert.Labels["namespace"] = "prod"
	vars, err := rb.bind(&rb.Actions[1], Vars{Target: "web", Labels: alert.Labels})
	if err != nil {
		t.Fatal(err)
	}
	r := renderer{vars: vars, getenv: func(k string) (string, bool) { return "tok-123", k == "KUBE_TOKEN" }}
	c, err := r.renderSpec(rb.Actions[1].Spec, "u", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Request.URL, "/namespaces/prod/deployments/web/scale") || c.Request.Body != `{"spec":{"replicas":8}}` || c.Request.Headers["Authorization"] != "Bearer tok-123" {
		t.Errorf("request %+v", c.Request)
	}
	if strings.Contains(c.String(), "tok-123") {
		t.Errorf("the token is shown: %s", c.String())
	}
	shown, _ := renderer{vars: r.vars}.renderSpec(rb.Actions[1].Spec, "u", time.Now())
	if !strings.Contains(shown.String(), "‹secret:KUBE_TOKEN›") {
		t.Errorf("shown: %s", shown.String())
	}
	alert.Labels["target_replicas"] = `8}, "x": {"y`
	if _, err := rb.bind(&rb.Actions[1], Vars{Target: "web", Labels: alert.Labels}); err == nil || !strings.Contains(err.Error(), "not an integer") {
		t.Errorf("a non-number in the body: %v", err)
	}
}

// TestMatchOrderAndLikelihood: a likely root cause comes before an alert
// match; a root-cause match below its minimum is no match.
func TestMatchOrderAndLikelihood(t *testing.T) {
	inc := &correlate.Incident{
		Candidates: []correlate.Candidate{{Service: "payment-api", Likelihood: correlate.Likely}, {Service: "cart", Likelihood: correlate.Possible}},
		Mechanisms: []correlate.Mechanism{{Kind: "saturation", Service: "payment-api", Detail: "payment-api pool:payment-db at 100/100"}, {Kind: "saturation", Service: "cart", Detail: "cart workers at 10/10"}},
	}
	rbs := []*Runbook{
		{Name: "by-alert", Match: Match{Alerts: []string{"HighErrors"}}},
		{Name: "pool", Match: Match{RootCause: &RootCauseMatch{Mechanism: "saturation", Detail: "pool:"}}},
		{Name: "strict", Match: Match{RootCause: &RootCauseMatch{Services: []string{"cart"}, MinLikelihood: "likely"}}},
	}
	ms := MatchAll(rbs, Situation{Alerts: []sources.Alert{{Name: "HighErrors", Service: "checkout-api"}}, Incident: inc})
	var got []string
	for _, m := range ms {
		got = append(got, m.Name+"@"+m.Service)
	}
	if want := []string{"pool@payment-api", "by-alert@checkout-api"}; !slices.Equal(got, want) {
		t.Errorf("matches %v, want %v", got, want)
	}
}

// TestREADMEExampleIsValid keeps the complete example of the runbooks'
// page (docs/runbooks.md) valid.
func TestREADMEExampleIsValid(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "docs", "runbooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "```yaml\n# runbooks/pool-full.yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/runbooks.md has no complete runbook example")
	}
	rb, ps := Parse([]byte(example), "docs/runbooks.md")
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if len(rb.Diagnose) != 4 || len(rb.Actions) != 2 || rb.Actions[0].Limits.Cooldown != timeparse.Duration(15*time.Minute) {
		t.Errorf("%+v", rb)
	}
}
