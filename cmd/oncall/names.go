package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/internal/suggest"
	"github.com/oncall-cockpit/oncall/internal/termsafe"
	"github.com/oncall-cockpit/oncall/sources"
	"github.com/oncall-cockpit/oncall/sources/prometheus"
)

// maxKnownListed bounds the known names an unknown one is answered with
// when none is near: enough to show what names look like, one line.
const maxKnownListed = 8

// checkServiceWithin is how long checkService waits for the metrics'
// service list: a healthy Prometheus answers in milliseconds.
const checkServiceWithin = 2 * time.Second

// unknownName is how every command answers a name it does not know (a
// service, a firing alert, an SLO, a runbook): a usage error (exit 2)
// naming the near names, else some of the known ones.
func unknownName(kind, name string, known []string) error {
	msg := fmt.Sprintf("no %s %q", kind, name)
	switch near := suggest.Near(name, known); {
	case len(near) > 0:
		msg += "; did you mean " + typeable(near, " or ") + "?"
	case len(known) > maxKnownListed:
		msg += fmt.Sprintf("; there are %d, such as %s", len(known), typeable(known[:maxKnownListed], ", "))
	case len(known) > 0:
		msg += "; there are " + typeable(known, ", ")
	default:
		msg += "; there are none"
	}
	return usageError{errors.New(msg)}
}

// typeable joins names as they can be typed back: a name that printing
// would change (an escape sequence, a control or bidi character in an
// alert's name) is written Go-quoted, its escapes visible, since the
// cleaned text shown is not the name and would not be found.
func typeable(names []string, sep string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n
		if termsafe.Line(n) != n {
			out[i] = strconv.Quote(n)
		}
	}
	return strings.Join(out, sep)
}

// checkService refuses a service the metrics backend does not name, as
// unknownName answers it. Without a metrics backend, or when it names no
// service, there is nothing to check against and the backend that is
// asked answers for itself. When the list cannot be read, that is said on
// errOut and the command goes on: a dead Prometheus must not keep a
// tired engineer from the logs, and a name is not called unknown on a
// guess. A hung Prometheus is given checkServiceWithin, not its own
// timeout: the check is a courtesy and must not hold back what was asked.
func checkService(ctx context.Context, m sources.Metrics, errOut io.Writer, name string) error {
	if name == "" || m == nil {
		return nil
	}
	checkCtx, cancel := context.WithTimeout(ctx, checkServiceWithin)
	defer cancel()
	known, err := m.Services(checkCtx)
	switch {
	case err != nil && ctx.Err() == nil && checkCtx.Err() != nil:
		fmt.Fprintf(errOut, "oncall: ! service %q not checked: the metrics' service list did not come within %s\n", name, checkServiceWithin)
		return nil
	case err != nil:
		fmt.Fprintf(errOut, "oncall: ! service %q not checked: the metrics' service list could not be read (%v)\n", name, err)
		return nil
	case len(known) == 0 || slices.Contains(known, name):
		return nil
	}
	return unknownName("service", name, known)
}

// checkServiceAt is checkService for a question about a time: a service
// read as of an --at older than the service list reaches
// (prometheus.ServicesWindow) may have stopped
// reporting since (the post-mortem of an app that was turned off), so an
// unknown name is said on errOut, not refused.
func checkServiceAt(ctx context.Context, m sources.Metrics, errOut io.Writer, name string, at, now time.Time) error {
	err := checkService(ctx, m, errOut, name)
	var u usageError
	if err != nil && errors.As(err, &u) && at.Before(now.Add(-prometheus.ServicesWindow)) {
		fmt.Fprintf(errOut, "oncall: ! service %q reports no traffic now; it is read as of %s\n", name, at.Format(time.RFC3339))
		return nil
	}
	return err
}
