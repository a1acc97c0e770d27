package testenv

import (
	"fmt"
	"strings"
	"testing"
)

// recorder stands in for *testing.T to see whether a helper fails or skips.
type recorder struct {
	testing.TB
	failed, skipped string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Fatalf(f string, a ...any) { r.failed = fmt.Sprintf(f, a...) }
func (r *recorder) Skipf(f string, a ...any)  { r.skipped = fmt.Sprintf(f, a...) }

func TestMissingServerFailsUnderCIAndSkipsWithAReasonElsewhere(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CI", "true")
	r := &recorder{TB: t}
	Binary(r, "prometheus-alertmanager")
	if r.failed == "" || r.skipped != "" {
		t.Fatalf("CI=true: failed=%q skipped=%q; want a failure", r.failed, r.skipped)
	}
	t.Setenv("CI", "")
	r = &recorder{TB: t}
	Binary(r, "prometheus-alertmanager")
	if r.failed != "" || r.skipped == "" || !strings.Contains(r.skipped, "README's test command") {
		t.Fatalf("no CI: failed=%q skipped=%q; want a skip that says how to get the server", r.failed, r.skipped)
	}
}
