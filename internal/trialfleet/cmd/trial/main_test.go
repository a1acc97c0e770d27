package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

func TestRunRefusesUnknownClassesAndCommands(t *testing.T) {
	for args, want := range map[string]string{
		"run --topology ../../../../testdata/trialfleet/fleet.yaml --classes slow-db,nope": `--classes: unknown class "nope"`,
		"serve": `unknown command "serve"`,
	} {
		err := run(context.Background(), strings.Fields(args), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", args, err, want)
		}
	}
}
