package main

import (
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionOptions(t *testing.T) {
	if o, err := optionsFor(t, NewCmdVersion); err != nil || o.Factory == nil || o.output != "text" {
		t.Errorf("defaults: %v %+v", err, o)
	}
	if o, err := optionsFor(t, NewCmdVersion, "-o", "json"); err != nil || o.output != "json" {
		t.Errorf("-o json: %v %+v", err, o)
	}
	for _, args := range [][]string{{"extra"}, {"-o", "yaml"}} {
		if _, err := optionsFor(t, NewCmdVersion, args...); exitCode(err) != exitUsage {
			t.Errorf("%q: err %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
}

// TestVersionFallsBackToTheVCSStamp: without -ldflags, the module version
// of go install …@version and the VCS stamp of a build in a checkout are
// read from the build info; -ldflags values win; a build with neither
// says how to get one.
func TestVersionFallsBackToTheVCSStamp(t *testing.T) {
	checkout := func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "508f419390c3"}, {Key: "vcs.time", Value: "2026-12-06T15:40:20Z"}, {Key: "vcs.modified", Value: "true"}}}, true
	}
	v := readVersion(versionInfo{}, checkout)
	if v.Version != "devel" || v.Commit != "508f419390c3" || v.CommitTime != "2026-12-06T15:40:20Z" || v.Date != unknown || !v.Modified {
		t.Errorf("a checkout build: %+v", v)
	}
	// vcs.time is when the commit was made, not the build
	if line := versionLine(v); !strings.HasPrefix(line, "oncall devel (commit 508f419390c3, modified, committed 2026-12-06T15:40:20Z, go") || versionHint(v) != "" {
		t.Errorf("a checkout build prints %q, hint %q", line, versionHint(v))
	}
	if raw, _ := json.Marshal(v); !strings.Contains(string(raw), `"commit_time":"2026-12-06T15:40:20Z"`) || !strings.Contains(string(raw), `"date":"unknown"`) {
		t.Errorf("a checkout build's JSON: %s", raw)
	}
	installed := func() (*debug.BuildInfo, bool) { return &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, true }
	if v := readVersion(versionInfo{}, installed); v.Version != "v1.4.0" || v.Commit != unknown || versionHint(v) != "" {
		t.Errorf("go install …@v1.4.0: %+v, hint %q", v, versionHint(v))
	}
	v = readVersion(versionInfo{Version: "v1.5.0", Commit: "abc", Date: "2026-12-01"}, checkout)
	if v.Version != "v1.5.0" || v.Commit != "abc" || v.Date != "2026-12-01" || v.Modified || v.CommitTime != "" {
		t.Errorf("-ldflags values: %+v", v)
	}
	if line := versionLine(v); !strings.HasPrefix(line, "oncall v1.5.0 (commit abc, built 2026-12-01, go") {
		t.Errorf("an -ldflags build prints %q", line)
	}
	bare := readVersion(versionInfo{}, func() (*debug.BuildInfo, bool) { return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true })
	if line := versionLine(bare); !strings.HasPrefix(line, "oncall devel (commit unknown, built unknown, go") || !strings.Contains(versionHint(bare), "-buildvcs=false") {
		t.Errorf("a build with no stamp prints %q, hint %q", line, versionHint(bare))
	}
}
