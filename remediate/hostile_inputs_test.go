package remediate

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/internal/timeparse"
	"github.com/oncall-cockpit/oncall/sources"
)

// The findings of issue 17, section 1: data must never become an option
// or a program. Each test here failed on the code before typed inputs.

// sshRestart is the runbook of the report, as it should be written: the
// instance label reaches ssh only as a typed host name.
const sshRestart = `name: ssh-restart
match: {alerts: [NginxDown]}
inputs:
  host: {from: "{{.Labels.instance}}", type: hostname}
actions:
  - name: restart
    kind: exec
    argv: [ssh, -o, BatchMode=yes, -o, ConnectTimeout=2, "{{.Inputs.host}}", sudo, systemctl, restart, nginx]
    danger: low
    category: restart
`

// plainName is a value of the hostile table that is a name all the same.
var plainName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.]*$`)

func mustParse(t *testing.T, src string) *Runbook {
	t.Helper()
	rb, ps := Parse([]byte(src), "test.yaml")
	if len(ps) > 0 {
		t.Fatalf("%v", ps)
	}
	return rb
}

// TestLabelsReachActionsOnlyThroughTypedInputs: the report's runbook read
// the label straight into ssh's argv and passed validation; it is now
// refused, and says how to declare the input.
func TestLabelsReachActionsOnlyThroughTypedInputs(t *testing.T) {
	raw := strings.Replace(strings.Replace(sshRestart, `"{{.Inputs.host}}"`, `"{{.Labels.instance}}"`, 1), "inputs:\n  host: {from: \"{{.Labels.instance}}\", type: hostname}\n", "", 1)
	_, ps := Parse([]byte(raw), "ssh.yaml")
	if len(ps) == 0 || !strings.Contains(ps.Error(), "declare a typed input") {
		t.Fatalf("a label straight into argv: %v", ps)
	}
	for name, tmpl := range map[string]string{
		"whole data":       "{{.}}",
		"alert name":       "{{.Alert}}",
		"slo":              "{{.SLO}}",
		"resource name":    "{{.Steps.pool.Resource}}",
		"through index":    `{{index .Labels "x"}}`,
		"through with":     "{{with .Labels}}{{.x}}{{end}}",
		"through variable": "{{$.Labels.x}}",
		"a step, whole":    `{{printf "%#v" .Steps.pool}}`,
		"a step's field":   "{{$x := .Steps.pool}}{{$x.Resource}}",
		"undeclared input": "{{.Inputs.nope}}",
	} {
		src := strings.Replace(sshRestart, `"{{.Inputs.host}}"`, "'--host="+tmpl+"'", 1)
		_, ps := Parse([]byte(src), "x.yaml")
		if len(ps) == 0 {
			t.Errorf("%s (%s) was accepted", name, tmpl)
		} else if !strings.Contains(ps.Error(), "argv[5]: ") {
			t.Errorf("%s: refused for another reason (is the test's YAML broken?): %v", name, ps)
		}
	}
}

// TestHostileLabelsRefuseThePlan: every hostile value of the table in
// the instance label refuses the plan, naming the input and showing the
// value inert; nothing runs, and no PWNED file appears.
func TestHostileLabelsRefuseThePlan(t *testing.T) {
	rb := mustParse(t, sshRestart)
	dir := t.TempDir()
	t.Chdir(dir)
	for _, h := range testenv.HostileValues {
		if plainName.MatchString(h.Value) {
			continue // NaN, Inf, 100000 are host names too
		}
		k, _ := simKit(t, "quiet", time.Minute, []*Runbook{rb}, nil)
		alert := sources.Alert{Name: "NginxDown", Service: "web", Labels: sources.Labels{"instance": h.Value}}
		p := k.Planner.Plan(bg, Matched{Runbook: rb, Name: rb.Name, Service: "web", Alert: &alert}, nil)
		if len(p.Problems) == 0 {
			t.Errorf("%s: the plan was made: %q", h.Name, p.Actions[0].Command.Argv)
			continue
		}
		msg := strings.Join(p.Problems, "; ")
		if !strings.Contains(msg, "input host (hostname)") || testenv.HasEscape([]byte(msg)) || strings.Contains(msg, "\n") {
			t.Errorf("%s: the refusal %q does not name the input, or shows the value raw", h.Name, msg)
		}
		if res := k.Run(bg, p, "test", false, nil); res.Result != ResultRefused {
			t.Errorf("%s: ran: %+v", h.Name, res)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "PWNED")); err == nil {
		t.Fatal("a label was executed")
	}
	// a real host name plans
	k, _ := simKit(t, "quiet", time.Minute, []*Runbook{rb}, nil)
	alert := sources.Alert{Name: "NginxDown", Labels: sources.Labels{"instance": "web-1.prod.example.com"}}
	p := k.Planner.Plan(bg, Matched{Runbook: rb, Name: rb.Name, Service: "web", Alert: &alert}, nil)
	if len(p.Problems) > 0 || p.Actions[0].Command.Argv[5] != "web-1.prod.example.com" {
		t.Fatalf("%v %+v", p.Problems, p.Actions)
	}
}

// TestKubectlServerFromALabel: deployment=--server=http://attacker:8080
// made kubectl talk to another API server; the shipped runbook's typed
// input refuses it.
func TestKubectlServerFromALabel(t *testing.T) {
	rb := testdataRunbook(t, "k8s-restart")
	k, _ := simKit(t, "quiet", time.Minute, []*Runbook{rb}, nil)
	alert := sources.Alert{Name: "KubePodCrashLooping", Labels: sources.Labels{"namespace": "--server=http://attacker:8080", "deployment": "web"}}
	m := Matched{Runbook: rb, Name: rb.Name, Service: "web", Alert: &alert}
	rb.Diagnose = nil // plan the action whatever the logs say
	p := k.Planner.Plan(bg, m, nil)
	if len(p.Problems) == 0 || !strings.Contains(p.Problems[0], "input namespace (k8s-name)") {
		t.Fatalf("planned: %v %+v", p.Problems, p.Actions)
	}
}

// TestTargetIsAServiceName: an alert's service label is the target; when
// an action reads it, it must be a service name.
func TestTargetIsAServiceName(t *testing.T) {
	rb := testdataRunbook(t, "wrong-action")
	k, _ := simKit(t, "quiet", time.Minute, []*Runbook{rb}, nil)
	rb.Diagnose = nil
	for _, h := range testenv.HostileValues {
		if plainName.MatchString(h.Value) {
			continue
		}
		p := k.Planner.Plan(bg, Matched{Runbook: rb, Name: rb.Name, Service: h.Value}, nil)
		if len(p.Problems) == 0 {
			t.Errorf("%s: target %q planned", h.Name, h.Value)
		}
	}
}

// TestNoArgumentBeginsWithData: an argv item that begins with a value
// that could begin with '-' is refused at validation, unless after --.
func TestNoArgumentBeginsWithData(t *testing.T) {
	head := "name: x\nmatch: {alerts: [A]}\ninputs:\n  v: {from: \"{{.Labels.v}}\", type: regex, pattern: '.+'}\n  n: {from: \"{{.Labels.n}}\", type: int}\n  k: {from: \"{{.Labels.k}}\", type: k8s-name}\n  pos: {from: \"{{.Labels.n}}\", type: int, min: 0}\n  e: {from: \"{{.Labels.e}}\", type: enum, values: [a, -b]}\nactions:\n  - name: a\n    kind: exec\n    danger: low\n    category: test\n    argv: "
	refused := []string{
		`[kubectl, get, "{{.Inputs.v}}"]`,
		`[kubectl, get, "{{.Inputs.n}}"]`,
		`[kubectl, get, "{{.Inputs.e}}"]`,
		`[kubectl, get, "{{printf \"%s\" .Inputs.k}}"]`,
		`[kubectl, get, "{{.Steps.x.Value}}"]`,
		`[python3, "-{{.Inputs.k}}", x.py]`, `[kubectl, get, "--{{.Inputs.k}}=x"]`, `[kubectl, get, " - {{- .Inputs.k}}"]`,
	}
	allowed := []string{
		`[kubectl, get, "{{.Inputs.k}}"]`,
		`[kubectl, get, "{{.Inputs.pos}}"]`,
		`[kubectl, get, "{{.Target}}"]`,
		`[kubectl, get, --, "{{.Inputs.v}}"]`,
		`[kubectl, get, "--selector=app={{.Inputs.v}}"]`,
		`[kubectl, get, "pods/{{.Inputs.v}}"]`,
	}
	for _, argv := range refused {
		if _, ps := Parse([]byte(head+argv+"\n"), "x.yaml"); len(ps) == 0 {
			t.Errorf("%s was accepted", argv)
		}
	}
	for _, argv := range allowed {
		if _, ps := Parse([]byte(head+argv+"\n"), "x.yaml"); len(ps) > 0 {
			t.Errorf("%s was refused: %v", argv, ps)
		}
	}
}

// TestOptionFromDataIsRefusedAtPlan: whatever validation let through (a
// runbook built in code, a type that allows a dash), a rendered argument
// that begins with a dash its template did not write refuses the plan.
func TestOptionFromDataIsRefusedAtPlan(t *testing.T) {
	rb := &Runbook{Name: "x", File: "inline", Inputs: map[string]*Input{"v": {From: "{{.Labels.v}}", Type: TypeRegex, Pattern: "(?s).*"}},
		Actions: []Action{{Name: "a", Danger: DangerLow, Category: "test", Spec: Spec{Kind: KindExec, Argv: []string{"kubectl", "get", "{{.Inputs.v}}"}}}}}
	k, _ := simKit(t, "quiet", time.Minute, []*Runbook{rb}, nil)
	alert := sources.Alert{Name: "A", Labels: sources.Labels{"v": "--kubeconfig=/x"}}
	p := k.Planner.Plan(bg, Matched{Runbook: rb, Name: "x", Service: "web", Alert: &alert}, nil)
	if len(p.Problems) == 0 || !strings.Contains(p.Problems[0], "an option written by data") {
		t.Fatalf("%v %+v", p.Problems, p.Actions)
	}
}

// TestNoTemplateReachesAnInterpreter: the ways in the report, each
// accepted by validation before, are refused; values passed to a fixed
// script as positional arguments are allowed.
func TestNoTemplateReachesAnInterpreter(t *testing.T) {
	const v = "{{.Inputs.v}}"
	refused := [][]string{
		{"rbash", "-c", "x " + v},
		{"tcsh", "-c", "x " + v},
		{"mksh", "-c", "x " + v},
		{"BASH", "-c", "x " + v},
		{"fish", "--command", "x " + v},
		{"pwsh", "-COMMAND", "Restart-Service", v},
		{"flock", "/tmp/l", "-c", "x " + v},
		{"su", "-c", "x " + v, "root"},
		{"script", "-qc", "x " + v},
		{"watch", "kubectl", "get", v},
		{"ssh", "host", "systemctl restart " + v},
		{"ssh", "host", "systemctl", "restart", v},
		{"python3", "-c", "print('" + v + "')"},
		{"perl", "-e", "print '" + v + "'"},
		{"awk", "{print \"" + v + "\"}"},
		{"parallel", "echo", ":::", v},
		{"ansible", "all", "-m", "shell", "-a", "systemctl restart " + v},
		{"kubectl", "exec", "pod", "--", v},
		{"kubectl", "exec", "pod", "--", "sh", "-c", "x " + v},
		{"bash", v},
		{"find", "/", "-exec", v, ";"},
		{"timeout", "10", v},
		{"sudo", "-u", "root", v},
		{"nice", "-n", "5", v},
		{"xargs", "-n", "1", v},
		{"stdbuf", "-o", "L", v},
		{"chroot", "/", v},
		{"env", "-S" + v},
		{"sudo", "-s", "systemctl", "restart", v},
		{"ssh", "-o", "ProxyCommand=" + v, "host", "uptime"},
		{"docker", "exec", "web", v},
		{"sed", "s/x/" + v + "/e", "f"},
		{"/usr/bin/Python3.12", "-c", v},
		{"git", "-c", "core.sshCommand=" + v, "fetch"},
		{"bash", "-ce", "systemctl restart " + v},
		{"sh", "-cx", "x " + v},
		{"bash", "-lc", "x " + v},
		{"site-wrapper", "--as", "ops", "bash", "-c", "x " + v},
		{"bash", "-c", "--", v},
		{"bash", "-c", "-e", v},
		{"sh", "-c", "+x", v},
		{"zsh", "-c", "-", v},
		{"env", "A=1", "bash", "-c", "-e", v},
		{"sudo", "-u", "root", "bash", "-c", "-x", v},
		{"kubectl", "exec", "-it", "pod", "--", "bash", "-c", "--", v},
		{"timeout", "--", "10", v},
		{"flock", "--", "/l", v},
		{"sudo", "A=1", v},
		{"sudo", "-R", "/", v},
		{"sudo", "--unknown-flag", "x", v},
		{"env", "PATH=" + v, "kubectl", "get", "pods"},
		{"tar", "-cf", "f", "--checkpoint=1", "--checkpoint-action=exec=" + v, "/etc/hostname"},
		{"systemd-run", "-p", "ExecStartPre=" + v, "true"},
		{"make", "--eval=" + v},
		{"vim", "-c", v},
		{"python3m", "-c", v},
		{"nodejs18", "-e", v},
		{"gawk-5.1", v},
		{"bash5.2", "-c", v},
		{"sshpass", "-p", "pw", "ssh", "host", "restart " + v},
		{"kubectl", "--server=https://" + v, "get", "pods"},
		{"kubectl", "--kubeconfig", v, "get", "pods"},
		{"kubectl", v, "pods"},
		{"git", v},
		{"ip", "netns", "exec", "ns", v},
		{"tmux", "new-session", "-d", v},
		// the second attack
		{"bash", "+x", "-c", ":;" + v},
		{"bash", "-C", "-c", ":;" + v},
		{"bash", "-c", "-o", "errexit", ":;" + v},
		{"bash", "-co", "pipefail", ":;" + v},
		{"bash", "-cO", "extglob", ":;" + v},
		{"python3", "-IW", "ignore", "-c", "0;" + v},
		{"python3", "--check-hash-based-pycs", "always", "-c", "0;" + v},
		{"perl", "-lI", "lib", "-e", "0;" + v},
		{"node", "-C", "dev", "-e", "0;" + v},
		{"ssh", "-vo", "ProxyCommand=" + v, "127.0.0.1", "true"},
		{"ssh", "-voProxyCommand=" + v, "127.0.0.1", "true"},
		{"tar", "-cf", "f", "--to-com=:;" + v, "x"},
		{"tar", "-cf", "f", "--checkpoint-act=exec=:;" + v, "x"},
		{"tar", "-cI" + v, "-f", "f", "x"},
		{"env", "--split-s=" + v},
		{"env", "-iS" + v},
		{"env", "-iu", "FOO", v},
		{"timeout", "-vs", "KILL", "10", v},
		{"make", "-f", "M", "all", "SHELL=" + v},
		{"make", "--ev=$(shell :;" + v + ")"},
		{"kubectl", "--insecure-skip-tls-verify", v, "pods"},
		{"kubectl", "get", "pods", "-As", "http://" + v + ":18080"},
		{"kubectl", "get", "pods", "--context=" + v},
		{"systemd-run", "--prop=ExecStartPre=" + v, "true"},
		{"git", "fetch", "--upload-p=" + v},
		{"mywrap", "python3", "-c", v},
		{"cmd", "/c", "echo", v},
		{"fish", "-C", v, "-c", "true"},
		// the third attack
		{"env", "-", "sh", "-c", ":;" + v},
		{"env", "-", v},
		{"script", "/dev/null", "-c", ":;" + v},
		{"gdb", "/bin/true", "-batch", "-ex", "shell " + v},
		{"su", "root", "-c", ":;" + v},
		{"sg", "root", "-c", ":;" + v},
		{"sed", "s/a/b/", "-e", "1e " + v, "/etc/hostname"},
		{"git", "-C", "repo", "grep", "-O" + v, "root"},
		{"git", "submodule", "foreach", v},
		{"git", "rebase", "-x", v},
		{"strace", "-o", "|" + v, "/bin/true"},
		{"find", "/d", "-maxdepth", "0", "-exec", "env", "-u", "+", v, "f", ";"},
		{"xargs", "-e", v, "arg"},
		{"tar", "xIf", v, "a.tar"},
		{"perl", "-x", v},
		{"dc", "/dev/null", "-e", v},
		{"make", "all", "-E", v},
		{"vim", "+" + v, "f"},
		{"psql", "-o", "|" + v},
		{"node", "--experimental-loader=" + v, "x.js"},
		{"perl", "-d:" + v, "x.pl"},
		{"cmd", "/s", "/c", "echo " + v},
		{"docker", "run", "--entrypoint", v, "img"},
		{"pwsh", "-f", v},
		{"ssh", "-I", v, "host", "true"},
		{"socat", "-", "EXEC:" + v},
		{"ncat", "-e", v, "host", "80"},
		{"emacs", "--eval", v},
		{"zip", "-TT", v, "a.zip", "f"},
		{"tcpdump", "-z", v},
		{"helm", "install", "x", "c", "--post-renderer", v},
		{"deno", "eval", "1;" + v},
		{"deno", "run", v},
		{"make", "-C", v, "all"},
		{"python3-dbg", "-c", ":;" + v},
		{"start-stop-daemon", "--start", "--exec", v},
	}
	allowed := [][]string{
		{"bash", "-c", `systemctl restart "$1"`, "_", v},
		{"sh", "-c", "systemctl restart nginx"},
		{"python3", "-c", "import sys; print(sys.argv[1])", v},
		{"ssh", "-o", "BatchMode=yes", v, "sudo", "systemctl", "restart", "nginx"},
		{"timeout", "10", "kubectl", "rollout", "restart", "deployment/" + v},
		{"sudo", "-u", "ops", "systemctl", "restart", "x-" + v},
		{"kubectl", "exec", "-n", v, "pod", "--", "nginx", "-s", "reload"},
		{"env", "KUBECONFIG=/etc/k", "kubectl", "scale", "--replicas=2", "deployment/" + v},
		{"find", "/var/log/" + v, "-name", "*.gz", "-exec", "rm", "{}", ";"},
		{"kubectl", "describe", "node", v},
		{"kubectl", "label", "node", v, "role=x"},
		{"site-wrapper", "restart", "web", v},
		{"kubectl", "--context", "prod", "-n", v, "rollout", "restart", "deployment/" + v},
		{"sudo", "-n", "-u", "ops", "systemctl", "restart", "x-" + v},
		{"git", "-C", "/srv/repo", "checkout", v},
	}
	head := "name: x\nmatch: {alerts: [A]}\ninputs:\n  v: {from: \"{{.Labels.v}}\", type: k8s-name}\n"
	for _, argv := range refused {
		a := Action{Name: "a", Spec: Spec{Kind: KindExec, Argv: argv}, Danger: DangerLow, Category: "restart"}
		rb := mustParse(t, head+"actions: [{name: b, kind: sim, sim: {action: x, service: y}, danger: low, category: c}]\n")
		if ps := append(a.validate(), rb.dataUse(a)...); len(ps) == 0 {
			t.Errorf("%q was accepted", argv)
		}
	}
	for _, argv := range allowed {
		a := Action{Name: "a", Spec: Spec{Kind: KindExec, Argv: argv}, Danger: DangerLow, Category: "restart"}
		rb := mustParse(t, head+"actions: [{name: b, kind: sim, sim: {action: x, service: y}, danger: low, category: c}]\n")
		if ps := append(a.validate(), rb.dataUse(a)...); len(ps) != 0 {
			t.Errorf("%q was refused: %v", argv, ps)
		}
	}
}

// TestTemplatesAreBounded: a loop of two billion hung runbook show, and a
// printf width made a 300 MB argv. Both are refused, quickly.
func TestTemplatesAreBounded(t *testing.T) {
	for name, tmpl := range map[string]string{
		"range":            "{{range 2000000000}}x{{end}}",
		"printf width":     `{{printf "%300000000d" 1}}`,
		"printf star":      `{{printf "%*d" 300000000 1}}`,
		"printf index":     `{{printf "%-[1]*d" 300000000 1}}`,
		"precision star":   `{{printf "%.[1]*[2]d" 300000000 1}}`,
		"define":           `{{define "a"}}{{template "a"}}{{end}}{{template "a"}}`,
		"template block":   `{{block "b" .}}x{{end}}`,
		"secret from data": `{{secret .Target}}`,
		"secret piped":     `{{.Target | secret}}`,
	} {
		if err := checkTemplate(tmpl); err == nil {
			t.Errorf("%s: accepted at load", name)
		}
		if _, err := (renderer{}).render("t", tmpl); err == nil {
			t.Errorf("%s: rendered", name)
		}
	}
	// a value built in variables is capped before anything is written:
	// ten times a thousand, ten times over, was 3.9 GB
	bomb := `{{$a := printf "%1000s" "x"}}{{$b := print $a $a $a $a $a $a $a $a $a $a}}{{$c := print $b $b $b $b $b $b $b $b $b $b}}{{$d := print $c $c $c $c $c $c $c $c $c $c}}{{len $d}}`
	for _, b := range []string{bomb, strings.ReplaceAll(bomb, "print $", "urlquery $"), strings.ReplaceAll(bomb, "print $", "html $")} {
		if _, err := (renderer{}).render("t", b); err == nil || !strings.Contains(err.Error(), "KiB") {
			t.Errorf("a value built in variables: %v", err)
		}
	}
	// output: a body of a thousand-wide printf, repeated past the cap
	long := strings.Repeat(`{{printf "%1000d" 1}}`, 100)
	if _, err := (renderer{}).render("t", long); err == nil || !strings.Contains(err.Error(), "KiB") {
		t.Errorf("100 KB rendered: %v", err)
	}
	if s, err := (renderer{}).render("t", `{{printf "%08.3f" 3.14159}}`); err != nil || s != "0003.142" {
		t.Errorf("an ordinary printf: %q %v", s, err)
	}
}

// TestCredentialsGoWhereTheRunbookSays: data chose the host an API key
// went to, and which environment variable was sent as a secret.
func TestCredentialsGoWhereTheRunbookSays(t *testing.T) {
	head := "name: x\nmatch: {alerts: [A]}\ninputs:\n  h: {from: \"{{.Labels.h}}\", type: hostname}\n  t: {from: \"{{.Labels.t}}\", type: regex, pattern: '[a-z0-9./?:]+'}\nactions:\n  - name: a\n    kind: http\n    danger: low\n    category: test\n    http:\n      method: POST\n"
	refused := []string{
		"      url: 'http://{{.Inputs.h}}:8080/restart'\n      headers: {X-Api-Key: '{{secret \"API\"}}'}\n",
		"      url: 'http://{{.Inputs.h}}/restart?token={{secret \"T\"}}'\n",
		"      url: '{{.Inputs.h}}'\n      body: '{\"k\": \"{{secret \"K\"}}\"}'\n",
		"      url: 'https://{{.Inputs.h}}/x'\n      headers: {Authorization: 'Bearer fixed-token'}\n",
		// the second attack: 127.0.0.1:18080/? in t sent the token to 18080
		"      url: 'http://{{.Inputs.t}}@127.0.0.1:18081/restart'\n      headers: {Authorization: 'Bearer {{secret \"API\"}}'}\n",
		"      url: 'http://ops:{{secret \"PW\"}}@api.internal/x'\n",
		"      url: 'https://api.internal:{{.Inputs.t}}'\n      headers: {X-Api-Key: '{{secret \"API\"}}'}\n",
		"      url: 'https://api.internal{{.Inputs.t}}/x'\n      headers: {X-Api-Key: '{{secret \"API\"}}'}\n",
	}
	allowed := []string{
		"      url: 'https://api.internal/hosts/{{.Inputs.h}}/restart'\n      headers: {X-Api-Key: '{{secret \"API\"}}'}\n",
		"      url: 'http://{{.Inputs.h}}:8080/healthz'\n",
		"      url: 'https://ops@api.internal?tenant={{.Inputs.t}}'\n      headers: {X-Api-Key: '{{secret \"API\"}}'}\n",
		"      url: 'https://api.internal#{{.Inputs.t}}'\n      headers: {X-Api-Key: '{{secret \"API\"}}'}\n",
		"      url: 'https://api.internal'\n      body: '{{secret \"K\"}}'\n",
	}
	for _, h := range refused {
		if _, ps := Parse([]byte(head+h), "x.yaml"); len(ps) == 0 || !strings.Contains(ps.Error(), "must be fixed") {
			t.Errorf("accepted: %s%v", h, ps)
		}
	}
	for _, h := range allowed {
		if _, ps := Parse([]byte(head+h), "x.yaml"); len(ps) > 0 {
			t.Errorf("refused: %s%v", h, ps)
		}
	}
}

// TestMaxStepComesFromAReading: labels replicas=Inf, NaN or 100000 made
// a plan of --replicas=100000, since the current value came from a label.
// max_step.from must be a reading; a missing or non-finite one fails
// closed, and the typed target count refuses what is not an integer in
// its bounds.
func TestMaxStepComesFromAReading(t *testing.T) {
	src := "name: x\nmatch: {alerts: [A]}\ninputs:\n  n: {from: \"{{.Labels.n}}\", type: int, min: 1, max: 50}\nactions:\n  - name: a\n    kind: exec\n    danger: low\n    category: capacity\n    argv: [kubectl, scale, \"--replicas={{.Inputs.n}}\"]\n    max_step: {param: replicas, value: \"{{.Inputs.n}}\", from: \"{{.Labels.replicas}}\", increase: 100%}\n"
	if _, ps := Parse([]byte(src), "x.yaml"); len(ps) == 0 || !strings.Contains(ps.Error(), "max_step.from must be a reading") {
		t.Fatalf("from a label: %v", ps)
	}
	rb := testdataRunbook(t, "k8s-scale")
	k, _ := simKit(t, "quiet", time.Minute, []*Runbook{rb}, nil)
	for _, target := range []string{"Inf", "NaN", "100000", "-1", "8"} {
		alert := sources.Alert{Name: "KubeDeploymentSaturated", Labels: sources.Labels{"namespace": "prod", "deployment": "web", "replicas": "4", "target_replicas": target, "severity": "page"}}
		m := Matched{Runbook: rb, Name: rb.Name, Service: "web", Alert: &alert}
		r := renderer{vars: Vars{Target: "web", Labels: alert.Labels, Steps: map[string]Value{}}}
		pa, err := k.Planner.plan(rb, &rb.Actions[0], r.vars, time.Now())
		if err == nil && pa.Refused == nil {
			t.Errorf("target %s without a reading of the current count: planned %q", target, pa.Command.Argv)
		}
		// with a reading of 4 replicas, only 8 (a doubling) passes
		r.vars.Steps["replicas"] = Value{Used: 4, Max: 10, Text: "40%"}
		pa, err = k.Planner.plan(rb, &rb.Actions[0], r.vars, time.Now())
		if ok := err == nil && pa.Refused == nil; ok != (target == "8") {
			t.Errorf("target %s with 4 now: err %v, refusal %v", target, err, pa.Refused)
		}
		// a reading that is not finite fails closed
		for _, bad := range []float64{0, -3} {
			r.vars.Steps["replicas"] = Value{Used: bad}
			if pa, err := k.Planner.plan(rb, &rb.Actions[0], r.vars, time.Now()); err == nil && pa.Refused == nil {
				t.Errorf("a reading of %g passed", bad)
			}
		}
		_ = m
	}
}

// TestInputTypes checks each type on values it must take and refuse.
func TestInputTypes(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	cases := []struct {
		in      Input
		ok, bad []string
	}{
		{Input{Type: TypeK8sName}, []string{"web", "payment-api", "a.b-c"}, []string{"-x", "Web", "a_b", "", "a/b", strings.Repeat("a", 254), "a\x1b[2K"}},
		{Input{Type: TypeHostname}, []string{"web-1", "Web.Example.com", "10.0.0.1", "::1"}, []string{"-oProxyCommand=x", "a b", "host:22", "a;b", ""}},
		{Input{Type: TypeInt, Min: f(1), Max: f(50)}, []string{"1", "50"}, []string{"0", "51", "Inf", "NaN", "1e3", "0x10", " 5", "+5", "-0"}},
		{Input{Type: TypeNumber, Min: f(0)}, []string{"0.5", "10"}, []string{"Inf", "NaN", "-1", "0x1p3", "1_0", "+5", "-0", "-0.0e1"}},
		{Input{Type: TypeEnum, Values: []string{"fast", "slow"}}, []string{"fast"}, []string{"Fast", "fast ", ""}},
		{Input{Type: TypeRegex, Pattern: "[a-f0-9]{4}"}, []string{"beef"}, []string{"beefy", "-eef", "be\nef"}},
		// whatever a pattern allows, a regex input is never shell syntax
		{Input{Type: TypeRegex, Pattern: "(?s).+"}, []string{"/var/log/app-1.log", "v1.2.3", "a=b,c:d@e%f+g"},
			[]string{"a b", "a;b", "a|b", "$(id)", "`id`", "a&b", "a>b", "a'b", `a"b`, "a\\b", "a*", "a?", "{x}", "~root", "#x", "a\tb"}},
	}
	for _, c := range cases {
		c.in.From = "{{.Target}}"
		if ps := c.in.validate(); len(ps) > 0 {
			t.Fatalf("%s: %v", c.in.Type, ps)
		}
		for _, v := range c.ok {
			if err := c.in.check(v); err != nil {
				t.Errorf("%s refused %q: %v", c.in.Type, v, err)
			}
		}
		for _, v := range c.bad {
			if err := c.in.check(v); err == nil {
				t.Errorf("%s took %q", c.in.Type, v)
			} else if testenv.HasEscape([]byte(err.Error())) {
				t.Errorf("%s shows %q raw", c.in.Type, v)
			}
		}
	}
}

// TestEchoedSecretsAreScrubbedInEveryEncoding: a server that echoed a
// secret inside JSON (with its quote escaped) or base64-encoded put the
// secret on the screen.
func TestEchoedSecretsAreScrubbedInEveryEncoding(t *testing.T) {
	const pw = `pw"Q-9931-hush`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusInternalServerError)
		_ = json.NewEncoder(w).Encode(map[string]string{"key": r.Header.Get("X-Api-Key"), "body": string(body),
			"key64": base64.StdEncoding.EncodeToString([]byte(r.Header.Get("X-Api-Key"))), "body64": base64.StdEncoding.EncodeToString(body)})
	}))
	defer srv.Close()
	rb := mustParse(t, `name: echo
match: {alerts: [A]}
actions:
  - name: call
    kind: http
    http:
      method: POST
      url: '`+srv.URL+`/echo'
      headers: {X-Api-Key: '{{secret "PW"}}'}
      body: '{{secret "PW"}}'
    danger: low
    category: test
`)
	k, _ := simKit(t, "quiet", time.Minute, []*Runbook{rb}, nil)
	k.Exec.Getenv = func(name string) (string, bool) { return pw, name == "PW" }
	var seen []string
	p := k.Planner.Plan(bg, Matched{Runbook: rb, Name: rb.Name, Service: "web"}, nil)
	res := k.Run(bg, p, "test", false, func(e Event) { seen = append(seen, e.Line) })
	out, _ := json.Marshal(res)
	all := strings.Join(seen, "\n") + string(out)
	quoted, _ := json.Marshal(pw)
	for _, form := range []string{pw, strings.Trim(string(quoted), `"`), base64.StdEncoding.EncodeToString([]byte(pw))} {
		if strings.Contains(all, form) {
			t.Errorf("%q shown:\n%s", form, all)
		}
	}
	if !strings.Contains(all, "body64") {
		t.Fatalf("the echo did not come back:\n%s", all)
	}
}

// TestNeverAutomatableInAnySpelling: a runbook's category "Security" or
// "data_corruption" would slip past the categories that always go to a
// human, which are compared as written: it is refused when the runbook
// loads.
func TestNeverAutomatableInAnySpelling(t *testing.T) {
	for _, c := range []string{"Security", "data_corruption", "Financial Transactions", "unknown\u200b", "restart "} {
		a := Action{Name: "a", Spec: Spec{Kind: KindExec, Argv: []string{"true"}}, Danger: DangerLow, Category: c}
		if ps := a.validate(); !slices.ContainsFunc(ps, func(p string) bool { return strings.Contains(p, "lower case") }) {
			t.Errorf("%q: %v", c, ps)
		}
	}
	a := Action{Name: "a", Spec: Spec{Kind: KindExec, Argv: []string{"true"}}, Danger: DangerLow, Category: "data-corruption"}
	if ps := a.validate(); len(ps) > 0 {
		t.Errorf("data-corruption: %v", ps)
	}
}

// TestCredentialGoesOnlyToTheWrittenHost: the tenant 127.0.0.1:18080/? in
// http://{{.Inputs.tenant}}@127.0.0.1:18081/restart sent the bearer token
// to 18080. Past validation (a runbook built in code), the plan compares
// where the rendered URL goes with what the runbook wrote, and the
// credential never reaches the host data chose.
func TestCredentialGoesOnlyToTheWrittenHost(t *testing.T) {
	serve := func(hits chan<- string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			select {
			case hits <- r.Header.Get("Authorization"):
			default:
			}
		}))
	}
	decoyHits, ownHits := make(chan string, 4), make(chan string, 4)
	decoy, own := serve(decoyHits), serve(ownHits)
	defer decoy.Close()
	defer own.Close()
	hostOf := func(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "http://") }
	alert := sources.Alert{Name: "A", Labels: sources.Labels{"tenant": hostOf(decoy) + "/x"}}
	run := func(url string) *Plan {
		rb := &Runbook{Name: "x", File: "inline", Inputs: map[string]*Input{"tenant": {From: "{{.Labels.tenant}}", Type: TypeRegex, Pattern: `[a-z0-9./:]+`}},
			Actions: []Action{{Name: "a", Danger: DangerLow, Category: "test", Spec: Spec{Kind: KindHTTP,
				HTTP: &HTTPSpec{Method: "POST", URL: url, Headers: map[string]string{"Authorization": `Bearer {{secret "API"}}`}}}}}}
		k, _ := simKit(t, "quiet", time.Minute, []*Runbook{rb}, nil)
		k.Exec.Getenv = func(name string) (string, bool) { return "s3cr3t-token", name == "API" }
		p := k.Planner.Plan(bg, Matched{Runbook: rb, Name: rb.Name, Service: "web", Alert: &alert}, nil)
		k.Run(bg, p, "test", false, nil)
		return p
	}
	p := run("http://{{.Inputs.tenant}}@" + hostOf(own) + "/restart")
	if len(decoyHits) > 0 {
		t.Fatalf("the credential went to the host data chose: %q", <-decoyHits)
	}
	if msg := strings.Join(p.Problems, "; "); !strings.Contains(msg, "not where the runbook wrote") {
		t.Errorf("the plan was not refused for its host: %q", msg)
	}
	// the host written first, the same value stays in the path
	p = run("http://" + hostOf(own) + "/t/{{.Inputs.tenant}}/restart")
	if len(p.Problems) > 0 || len(ownHits) != 1 || len(decoyHits) > 0 {
		t.Fatalf("problems %v, calls to the written host %d, to the decoy %d", p.Problems, len(ownHits), len(decoyHits))
	}
	if got := <-ownHits; got != "Bearer s3cr3t-token" {
		t.Errorf("the written host got %q", got)
	}
}

// silenceFromData silences one instance, named by a regex input that
// allows the characters of the matchers' grammar.
const silenceFromData = `name: a15
match: {alerts: [A]}
inputs:
  inst: {from: "{{.Labels.instance}}", type: regex, pattern: '[a-z0-9_",=-]+'}
actions:
  - name: hush
    kind: silence
    silence:
      matchers: 'service="web",instance="{{.Inputs.inst}}"'
      for: 1h
    danger: low
    category: test
`

// TestSilenceMatchersAreWrittenByTheRunbook: an instance value that closed
// its quote created a silence of 5 matchers that the ledger read as a run
// of a15-act, blocking that action for an hour. A value may change a
// matcher's value, never the matchers' names, operators or count.
func TestSilenceMatchersAreWrittenByTheRunbook(t *testing.T) {
	rb := mustParse(t, silenceFromData)
	k, _ := simKit(t, "quiet", time.Minute, []*Runbook{rb}, nil)
	alert := sources.Alert{Name: "A", Labels: sources.Labels{"instance": `x",oncall_remediation="run",oncall_action="a15-act",oncall_target="web`}}
	p := k.Planner.Plan(bg, Matched{Runbook: rb, Name: rb.Name, Service: "web", Alert: &alert}, nil)
	k.Run(bg, p, "test", false, nil)
	if len(p.Problems) == 0 {
		t.Errorf("planned: %+v", p.Actions)
	}
	// the quote is no input's to give now; whatever gives it, the
	// matchers are still the runbook's
	vars := Vars{Target: "web", Inputs: map[string]string{"inst": alert.Labels["instance"]}}
	if _, err := (renderer{vars: vars}).renderSpec(rb.Actions[0].Spec, "u", time.Now()); err == nil || !strings.Contains(err.Error(), "a value changed the silence's matchers") {
		t.Errorf("rendered: %v", err)
	}
	recs, err := k.Ledger.Records(bg)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Key.Action == "a15-act" {
			t.Errorf("a label value wrote a ledger record: %+v", r)
		}
	}
	// an instance name silences that instance
	alert.Labels["instance"] = "web-1"
	p = k.Planner.Plan(bg, Matched{Runbook: rb, Name: rb.Name, Service: "web", Alert: &alert}, nil)
	if len(p.Problems) > 0 || len(p.Actions) != 1 {
		t.Fatalf("%v %+v", p.Problems, p.Actions)
	}
	if ms := p.Actions[0].Command.Silence.Matchers; len(ms) != 2 || ms[1].Value != "web-1" {
		t.Errorf("matchers %+v", ms)
	}
}

// TestSilenceMayNotWriteLedgerLabels: the ledger's labels are its own; a
// runbook's silence naming one is refused at validation and, built in
// code past validation, at plan time.
func TestSilenceMayNotWriteLedgerLabels(t *testing.T) {
	for _, name := range []string{labelRecord, labelAction, labelTarget} {
		src := strings.Replace(silenceFromData, `'service="web",`, `'`+name+`="run",service="web",`, 1)
		if _, ps := Parse([]byte(src), "x.yaml"); len(ps) == 0 || !strings.Contains(ps.Error(), "reserved for the remediation ledger") {
			t.Errorf("%s: %v", name, ps)
		}
	}
	rb := &Runbook{Name: "x", File: "inline", Actions: []Action{{Name: "hush", Danger: DangerLow, Category: "test",
		Spec: Spec{Kind: KindSilence, Silence: &SilenceSp{Matchers: `{{printf "oncall_%s" "action"}}="a15-act",service="web"`, For: timeparse.Duration(time.Hour)}}}}}
	k, _ := simKit(t, "quiet", time.Minute, []*Runbook{rb}, nil)
	p := k.Planner.Plan(bg, Matched{Runbook: rb, Name: rb.Name, Service: "web"}, nil)
	if msg := strings.Join(p.Problems, "; "); !strings.Contains(msg, "reserved for the remediation ledger") {
		t.Errorf("planned: %q %+v", msg, p.Actions)
	}
}

// TestSilenceRegexMatchersTakeNoData: a value in a regex matcher is a
// pattern, and .* would silence everything.
func TestSilenceRegexMatchersTakeNoData(t *testing.T) {
	head := "name: x\nmatch: {alerts: [A]}\ninputs:\n  i: {from: \"{{.Labels.i}}\", type: regex, pattern: '.+'}\nactions:\n  - name: a\n    kind: silence\n    danger: low\n    category: test\n    silence: {for: 1h, matchers: '"
	for _, m := range []string{`instance=~"{{.Inputs.i}}"`, `instance!~"web-{{.Inputs.i}}"`} {
		if _, ps := Parse([]byte(head+m+"'}\n"), "x.yaml"); len(ps) == 0 || !strings.Contains(ps.Error(), "regex matcher") {
			t.Errorf("%s: %v", m, ps)
		}
	}
	if _, ps := Parse([]byte(head+`instance="{{.Inputs.i}}", job=~"api|web"`+"'}\n"), "x.yaml"); len(ps) > 0 {
		t.Errorf("an equality matcher from data: %v", ps)
	}
}
