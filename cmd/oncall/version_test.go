package main

import "testing"

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
