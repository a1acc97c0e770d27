package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/oncall-cockpit/oncall/internal/suggest"
	"github.com/oncall-cockpit/oncall/sources"
)

// maxKnownListed bounds the known names an unknown one is answered with
// when none is near: enough to show what names look like, one line.
const maxKnownListed = 8

// unknownName is how every command answers a name it does not know (a
// service, a firing alert, an SLO, a runbook): a usage error (exit 2)
// naming the near names, else some of the known ones.
func unknownName(kind, name string, known []string) error {
	msg := fmt.Sprintf("no %s %q", kind, name)
	switch near := suggest.Near(name, known); {
	case len(near) > 0:
		msg += "; did you mean " + strings.Join(near, " or ") + "?"
	case len(known) > maxKnownListed:
		msg += fmt.Sprintf("; there are %d, such as %s", len(known), strings.Join(known[:maxKnownListed], ", "))
	case len(known) > 0:
		msg += "; there are " + strings.Join(known, ", ")
	default:
		msg += "; there are none"
	}
	return usageError{errors.New(msg)}
}

// checkService refuses a service the metrics backend does not name, as
// unknownName answers it. Without a metrics backend, or when it names no
// service, there is nothing to check against and the backend that is
// asked answers for itself. When the list cannot be read, that is said on
// errOut and the command goes on: a dead Prometheus must not keep a
// tired engineer from the logs, and a name is not called unknown on a
// guess.
func checkService(ctx context.Context, m sources.Metrics, errOut io.Writer, name string) error {
	if name == "" || m == nil {
		return nil
	}
	known, err := m.Services(ctx)
	switch {
	case err != nil:
		fmt.Fprintf(errOut, "oncall: ! service %q not checked: the metrics' service list could not be read (%v)\n", name, err)
		return nil
	case len(known) == 0 || slices.Contains(known, name):
		return nil
	}
	return unknownName("service", name, known)
}
