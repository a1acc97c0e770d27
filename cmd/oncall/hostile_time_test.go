package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunbookRunsShareTheCooldownOnOneHost: without Alertmanager, four
// `oncall runbook run` processes in a row on one host: the first runs,
// the other three are refused by the cooldown, which names who ran it.
func TestRunbookRunsShareTheCooldownOnOneHost(t *testing.T) {
	bin := testBinary(t)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "runbooks"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeAt := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeAt("runbooks/once.yaml", "name: once\nmatch: {alerts: [Never]}\nactions:\n  - {name: act, kind: exec, argv: [true], danger: low, category: test}\n")
	writeAt("config.yaml", "runbooks: ./runbooks\n")
	for i := range 4 {
		cmd := exec.Command(bin, "--config", filepath.Join(dir, "config.yaml"), "runbook", "run", "once", "--target", "svc", "-y")
		cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+filepath.Join(dir, "data"), "USER=tester")
		out, err := cmd.CombinedOutput()
		if i == 0 {
			if err != nil || !strings.Contains(string(out), "Result: done") || !strings.Contains(string(out), "this host only (file "+filepath.Join(dir, "data", "oncall", "ledger.json")+")") {
				t.Fatalf("the first run: %v\n%s", err, out)
			}
			continue
		}
		if err == nil || !strings.Contains(string(out), "refused by cooldown: act on svc ran at") || !strings.Contains(string(out), "(by tester@") {
			t.Fatalf("run %d: %v\n%s", i+1, err, out)
		}
	}
}

// TestMissingConfigIsAnError: a --config that names no file fails and
// names it, rather than read the default audit log.
func TestMissingConfigIsAnError(t *testing.T) {
	vars, _ := dataHome(t)
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	r := oncall(t, vars, "", "--config", missing, "audit")
	if r.code != 2 || !strings.Contains(r.err, missing) || strings.Contains(r.out, "audit log") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
	}
}
