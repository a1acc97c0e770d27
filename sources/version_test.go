package sources

import (
	"errors"
	"strings"
	"testing"
)

func TestVersionCheckSaysUnknown(t *testing.T) {
	if c := VersionCheck("", nil); c.Status != CheckOK || !strings.HasPrefix(c.Detail, "unknown") {
		t.Errorf("a server with no version: %+v", c)
	}
	if c := VersionCheck("3.4.1", nil); c.Detail != "3.4.1" {
		t.Errorf("%+v", c)
	}
	if c := VersionCheck("", errors.New("404")); c.Status != CheckWarn || !strings.Contains(c.Detail, "buildinfo unavailable: 404") {
		t.Errorf("%+v", c)
	}
}
