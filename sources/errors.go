package sources

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound is wrapped by backends when the thing asked for does not exist
// (an unknown trace ID, an unknown silence).
var ErrNotFound = errors.New("not found")

// ErrNotReported is wrapped by a backend that answered but holds none of
// the series a convention looks for (no preset found deploys or pools):
// the evidence is not missing, this stack does not report it, and the
// incident says so in a note rather than as a failed part.
var ErrNotReported = errors.New("not reported by this stack")

// BackendError says which backend, which request, and what came back.
type BackendError struct {
	Backend string // "prometheus", "loki", "tempo", "alertmanager"
	Op      string // what was asked, e.g. "query_range {service_name=~\"checkout\"}"
	URL     string // method and URL, without credentials
	Status  int    // HTTP status, 0 when no response came back
	Body    string // the start of the response body
	Err     error
}

const maxErrorBody = 512

func (e *BackendError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", e.Backend, e.Op)
	if e.URL != "" {
		fmt.Fprintf(&b, " (%s)", e.URL)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if body := strings.TrimSpace(e.Body); body != "" {
		if len(body) > maxErrorBody {
			body = body[:maxErrorBody] + "…"
		}
		fmt.Fprintf(&b, ": %s", body)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *BackendError) Unwrap() error { return e.Err }

// Cause is err in a few words, for a row that points to the whole error
// said once elsewhere: the innermost error ("connection refused",
// "context deadline exceeded"), or the HTTP status a backend answered.
func Cause(err error) string {
	var be *BackendError
	if errors.As(err, &be) && be.Err == nil && be.Status != 0 {
		return fmt.Sprintf("HTTP %d", be.Status)
	}
	for {
		inner := errors.Unwrap(err)
		if inner == nil {
			return err.Error()
		}
		err = inner
	}
}

// StatusOf returns the HTTP status a BackendError carries, or 0.
func StatusOf(err error) int {
	var be *BackendError
	if errors.As(err, &be) {
		return be.Status
	}
	return 0
}

// AccessCheck turns the outcome of a backend's first request into the doctor
// lines "reachable" and "auth and tenant": a 401 or 403 means the server is
// up but rejected the credentials or the X-Scope-OrgID tenant.
func AccessCheck(err error) []Check {
	switch st := StatusOf(err); {
	case err == nil:
		return []Check{{Name: "reachable", Status: CheckOK, Detail: "answered"},
			{Name: "auth and tenant", Status: CheckOK, Detail: "accepted"}}
	case st == 401 || st == 403:
		return []Check{{Name: "reachable", Status: CheckOK, Detail: fmt.Sprintf("answered HTTP %d", st)},
			{Name: "auth and tenant", Status: CheckFail, Detail: err.Error(), Err: err}}
	default:
		return []Check{{Name: "reachable", Status: CheckFail, Detail: err.Error(), Err: err}}
	}
}

// VersionCheck is the doctor line for a backend's version. A server built
// from source may report none: that is said as unknown, not as an empty ok.
func VersionCheck(version string, err error) Check {
	switch {
	case err != nil:
		return Check{Name: "version", Status: CheckWarn, Detail: "buildinfo unavailable: " + err.Error(), Err: err}
	case version == "":
		return Check{Name: "version", Status: CheckOK, Detail: "unknown (the server reports none; built from source?)"}
	}
	return Check{Name: "version", Status: CheckOK, Detail: version}
}
