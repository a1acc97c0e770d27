package main

import "testing"

func TestManOptions(t *testing.T) {
	o, err := optionsFor(t, NewCmdMan, "--dir", "pages")
	if err != nil {
		t.Fatal(err)
	}
	// alone, man is its own root: under oncall, the root is oncall
	if o.Factory == nil || o.dir != "pages" || o.root == nil || o.root.Name() != "man" {
		t.Errorf("parsed: %+v", *o)
	}
	if o, err := optionsFor(t, NewCmdMan); err != nil || o.dir != "" {
		t.Errorf("defaults: %v %+v", err, o)
	}
	if _, err := optionsFor(t, NewCmdMan, "extra"); exitCode(err) != exitUsage {
		t.Errorf("extra: err %v, want a usage error", err)
	}
}
