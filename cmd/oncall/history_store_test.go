package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/testenv"
)

// TestHistoryStoreNeverAnswers: a history.dsn whose server accepts and
// never answers (with no connect_timeout in it) fails each reading
// command within the connect bound, with one error naming the store and
// never the password.
func TestHistoryStoreNeverAnswers(t *testing.T) {
	dir := t.TempDir()
	addr := testenv.SilentServer(t)
	cfg := writeAt(t, filepath.Join(dir, "config.yaml"), fmt.Sprintf("history:\n  dsn: postgres://oncall:${PGPW}@%s/oncall\n", addr))
	vars := map[string]string{"XDG_DATA_HOME": dir, "PGPW": "s3cret-pw"}
	for _, args := range [][]string{{"history", "--offline"}, {"stats", "--offline"}, {"postmortem", "last"}} {
		t.Run(args[0], func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			r := oncall(t, vars, "", append([]string{"--config", cfg}, args...)...)
			if took := time.Since(start); took > 15*time.Second {
				t.Errorf("%v took %s", args, took)
			}
			if r.code == 0 || strings.Contains(r.err+r.out, "s3cret-pw") ||
				!strings.Contains(r.err, "history store PostgreSQL database oncall on "+addr+": no answer within") ||
				strings.Count(r.err, "history store") != 1 {
				t.Errorf("%v: exit %d, stderr %q", args, r.code, r.err)
			}
		})
	}
}

// TestCockpitDrawsWhileTheHistoryStoreHangs: the cockpit's first frame
// does not wait for a history store that never answers beyond
// cockpitStoreWait, and says in it that history is unavailable.
func TestCockpitDrawsWhileTheHistoryStoreHangs(t *testing.T) {
	bin := testBinary(t)
	dir := t.TempDir()
	cfg := writeAt(t, filepath.Join(dir, "config.yaml"), fmt.Sprintf(
		"datasources:\n  prometheus:\n    url: http://%s\n    timeout: 2s\n    retries: 0\nhistory:\n  dsn: postgres://oncall:s3cret-pw@%s/oncall\n",
		testenv.FreeAddr(t), testenv.SilentServer(t)))
	start := time.Now()
	p := newPane(t, "hanging-history", 140, 30, "XDG_DATA_HOME="+dir+" "+bin+" --config "+cfg+" 2>"+filepath.Join(dir, "stderr"))
	s := p.waitFor("the first frame", 3*cockpitStoreWait, has("config.yaml", "history unavailable"))
	if took := time.Since(start); took > cockpitStoreWait+5*time.Second {
		t.Errorf("the first frame took %s", took)
	}
	if strings.Contains(s, "s3cret-pw") {
		t.Errorf("the cockpit shows the password:\n%s", s)
	}
}
