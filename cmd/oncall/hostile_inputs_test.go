package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/testenv"
)

// TestLabelsCannotBecomeOptions is issue 17's first reproduction, from the
// command line against a real Alertmanager: an alert whose instance label
// is -oProxyCommand=touch PWNED made ssh run touch; one whose namespace is
// --server=http://… made kubectl talk to another API server. The runbook
// that read labels straight into argv no longer validates, and the typed
// one refuses the plan: nothing runs, no file appears, no request leaves.
func TestLabelsCannotBecomeOptions(t *testing.T) {
	am := testenv.Alertmanager(t)
	attacker := int32(0)
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { atomic.AddInt32(&attacker, 1) }))
	defer srv.Close()
	postAlerts(t, am,
		map[string]string{"alertname": "NginxDown", "service": "web", "instance": "-oProxyCommand=touch PWNED"},
		map[string]string{"alertname": "KubePodCrashLooping", "service": "web", "namespace": "--server=" + srv.URL, "deployment": "web"})
	const ssh = `name: ssh-restart
match: {alerts: [NginxDown]}
%INPUTS%actions:
  - name: restart
    kind: exec
    argv: [ssh, -o, BatchMode=yes, -o, ConnectTimeout=2, "%HOST%", sudo, systemctl, restart, nginx]
    danger: low
    category: restart
`
	raw := strings.NewReplacer("%INPUTS%", "", "%HOST%", "{{.Labels.instance}}").Replace(ssh)
	typed := strings.NewReplacer("%INPUTS%", "inputs:\n  host: {from: \"{{.Labels.instance}}\", type: hostname}\n", "%HOST%", "{{.Inputs.host}}").Replace(ssh)
	// k8s-restart's inputs and action, without its diagnosis (no Loki here)
	dir := filepath.Dir(runbookDir(t, map[string]string{"ssh.yaml": typed, "k8s.yaml": `name: k8s-restart
match: {alerts: [KubePodCrashLooping]}
inputs:
  namespace: {from: "{{.Labels.namespace}}", type: k8s-name}
  deployment: {from: "{{.Labels.deployment}}", type: k8s-name}
actions:
  - name: rollout-restart
    kind: exec
    argv: [kubectl, -n, "{{.Inputs.namespace}}", rollout, restart, "deployment/{{.Inputs.deployment}}"]
    danger: low
    category: restart
`}))
	t.Chdir(dir)
	writeAt(t, filepath.Join(dir, "raw.yaml"), raw)
	if r := oncallAt(t, time.Now, nil, "", "runbook", "validate", filepath.Join(dir, "raw.yaml")); r.code != 1 || !strings.Contains(r.out, "raw.yaml:4: action \"restart\": argv[5]: .Labels.instance is data: declare a typed input") {
		t.Fatalf("the report's runbook validates: %d\n%s\n%s", r.code, r.out, r.err)
	}
	cfg := writeAt(t, filepath.Join(dir, "config.yaml"), "datasources:\n  alertmanager: {url: \""+am+"\"}\nrunbooks: ./runbooks\nremediation:\n  audit_log: "+filepath.Join(dir, "audit.jsonl")+"\n")

	r := oncallAt(t, time.Now, nil, "", "--config", cfg, "runbook", "run", "ssh-restart", "-y")
	if r.code != 1 || !strings.Contains(r.out+r.err, `input host (hostname): '-oProxyCommand=touch PWNED' is not a host name`) {
		t.Errorf("ssh: %d\n%s\n%s", r.code, r.out, r.err)
	}
	r = oncallAt(t, time.Now, nil, "", "--config", cfg, "runbook", "run", "k8s-restart", "--target", "web", "-y")
	if r.code != 1 || !strings.Contains(r.out+r.err, "input namespace (k8s-name)") {
		t.Errorf("kubectl: %d\n%s\n%s", r.code, r.out, r.err)
	}
	if _, err := os.Stat(filepath.Join(dir, "PWNED")); err == nil {
		t.Error("the label ran as ssh's ProxyCommand")
	}
	if n := atomic.LoadInt32(&attacker); n > 0 {
		t.Errorf("kubectl talked to the attacker's server %d times", n)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "audit.jsonl")); strings.Contains(string(b), `"phase":"before"`) {
		t.Errorf("an action started:\n%s", b)
	}
}

// TestJSONOutputIsTerminalSafe: -o json wrote label text with raw C1
// controls (U+009B, a one-byte CSI), DEL and bidirectional overrides.
// They are escaped, and the JSON still decodes to the same text.
func TestJSONOutputIsTerminalSafe(t *testing.T) {
	for _, h := range testenv.HostileValues {
		v := map[string]string{"label": h.Value + "\u009b2J\x7f\u202e\u2066"}
		var b strings.Builder
		if err := writeJSON(&b, v); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if testenv.HasEscape([]byte(out)) || strings.ContainsAny(out, "\x7f\u202e\u2066") {
			t.Errorf("%s: raw control in %q", h.Name, out)
		}
		var back map[string]string
		if err := json.Unmarshal([]byte(out), &back); err != nil || back["label"] != strings.ToValidUTF8(v["label"], "\uFFFD") {
			t.Errorf("%s: decodes to %q (%v)", h.Name, back["label"], err)
		}
	}
}
