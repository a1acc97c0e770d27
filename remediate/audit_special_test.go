//go:build unix

package remediate

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// An audit log path that is not a regular file is refused by name: read
// whole, /dev/zero never ends (and /dev/full got oncall OOM-killed), and
// a FIFO blocks.
func TestAuditRefusesAPathThatIsNotARegularFile(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "audit.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/dev/zero", fifo} {
		if _, err := os.Stat(path); err != nil {
			t.Fatal(err)
		}
		a := &Audit{Path: path}
		if _, _, err := a.Read(); err == nil || !strings.Contains(err.Error(), path+" is not a regular file") {
			t.Errorf("Read of %s: %v", path, err)
		}
		if err := a.Append(Entry{ID: "x", Phase: PhaseDecision}); err == nil || !strings.Contains(err.Error(), path+" is not a regular file") {
			t.Errorf("Append to %s: %v", path, err)
		}
	}
}
