package grafana

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// recorded is the shape of Grafana 11's GET /api/annotations: a dashboard
// annotation, an organisation-wide one (no dashboard), one with no
// service tag, and one whose text is hostile.
const recorded = `[
 {"id":4182,"alertId":0,"alertName":"","dashboardId":12,"dashboardUID":"checkout-red","panelId":3,"userId":7,"newState":"","prevState":"","created":1772355630000,"updated":1772355630000,
  "time":1772355600000,"timeEnd":1772355600000,"text":"Deploy checkout v1.4.2 by CI\n","tags":["deploy","service:checkout","version:1.4.2"],"login":"ci","email":"ci@example","avatarUrl":"","data":{}},
 {"id":4183,"dashboardId":0,"dashboardUID":"","panelId":0,"time":1772355660000,"timeEnd":1772355720000,"text":"rolled back","tags":["Deployment","rollback","service=cart","service=cart-worker"],"data":{}},
 {"id":4184,"dashboardId":0,"dashboardUID":"","panelId":0,"time":1772355700000,"timeEnd":1772355700000,"text":"maintenance window","tags":["deploy"],"data":{}},
 {"id":4185,"dashboardId":0,"dashboardUID":"","panelId":0,"time":1772355710000,"timeEnd":1772355710000,"text":"\u001b]52;c;cm0gLXJmIH4=\u0007feature flag \u001b[31mon\u001b[0m","tags":["service:payments","flag"],"data":{}}
]`

// grafana serves recorded on /api/annotations to the token "glsa_ok", and
// keeps the query it was asked.
func grafana(t *testing.T, asked *string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/health":
			fmt.Fprint(w, `{"commit":"abc","database":"ok","version":"11.3.0"}`)
		case r.Header.Get("Authorization") != "Bearer glsa_ok":
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"invalid API key","traceID":""}`)
		case r.URL.Path == "/api/annotations":
			if asked != nil {
				*asked = r.URL.RawQuery
			}
			fmt.Fprint(w, recorded)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// withToken is a client that sends the token, as httpx's would.
func withToken(token string) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+token)
		return http.DefaultTransport.RoundTrip(r)
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestChangesFromAnnotations: service from service:x or service=x (one
// change per service), kind and version from tags, text made inert and
// trimmed, the annotation's ID as the source; an annotation that names no
// service is skipped; the range, tags and limit are asked of Grafana.
func TestChangesFromAnnotations(t *testing.T) {
	var asked string
	srv := grafana(t, &asked)
	c, err := New(srv.URL+"/", withToken("glsa_ok"), Options{Tags: []string{"deploy"}})
	if err != nil {
		t.Fatal(err)
	}
	r := sources.TimeRange{Start: time.Unix(1772355000, 0), End: time.Unix(1772356000, 0)}
	got, err := c.Changes(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, ch := range got {
		lines = append(lines, fmt.Sprintf("%s|%s|%s|%s|%s|%s", ch.T.Format(time.TimeOnly), ch.Service, ch.Kind, ch.Version, ch.Detail, ch.Source))
	}
	want := strings.Join([]string{
		"09:00:00|checkout|deploy|1.4.2|Deploy checkout v1.4.2 by CI|grafana annotation 4182",
		"09:01:00|cart|rollback||rolled back|grafana annotation 4183",
		"09:01:00|cart-worker|rollback||rolled back|grafana annotation 4183",
		"09:01:50|payments|config||feature flag on|grafana annotation 4185",
	}, "\n")
	if g := strings.Join(lines, "\n"); g != want {
		t.Errorf("changes:\n%s\nwant:\n%s", g, want)
	}
	for _, w := range []string{"from=1772355000000", "to=1772356000000", "tags=deploy", "type=annotation", "limit=500"} {
		if !strings.Contains(asked, w) {
			t.Errorf("query %q lacks %s", asked, w)
		}
	}
}

// TestAnnotationsRefused: a token Grafana refuses is an error naming
// grafana and the status, never the token; doctor calls it auth.
func TestAnnotationsRefused(t *testing.T) {
	srv := grafana(t, nil)
	c, _ := New(srv.URL, withToken("glsa_wrong"), Options{})
	_, err := c.Changes(context.Background(), sources.TimeRange{Start: time.Unix(0, 0), End: time.Unix(60, 0)})
	if sources.StatusOf(err) != http.StatusUnauthorized || !strings.Contains(err.Error(), "grafana") || strings.Contains(err.Error(), "glsa_wrong") {
		t.Errorf("refused token: %v", err)
	}
	var be *sources.BackendError
	if !errors.As(err, &be) {
		t.Errorf("%T is not a BackendError", err)
	}
	checks := c.Doctor(context.Background())
	if len(checks) != 2 || checks[1].Name != "auth and tenant" || checks[1].Status != sources.CheckFail {
		t.Errorf("doctor on a refused token: %+v", checks)
	}
}

// TestDoctorCountsServiceAnnotations: doctor says how many of the last
// week's annotations name a service, and Grafana's version.
func TestDoctorCountsServiceAnnotations(t *testing.T) {
	var asked string
	srv := grafana(t, &asked)
	now := time.Unix(1772356000, 0)
	c, _ := New(srv.URL, withToken("glsa_ok"), Options{ServiceTag: "app", Now: func() time.Time { return now }})
	checks := c.Doctor(context.Background())
	if !strings.Contains(asked, "from=1771751200000&") || !strings.Contains(asked, "to=1772356000000") {
		t.Errorf("doctor asked %q, want the week before now", asked)
	}
	var got []string
	for _, ck := range checks {
		got = append(got, fmt.Sprintf("%s %s: %s", ck.Status, ck.Name, ck.Detail))
	}
	want := "ok reachable: answered|ok auth and tenant: accepted|ok version: 11.3.0|warn annotations: 4 in the last 7 days, 0 name a service with a app: tag; tag deploy annotations app:<name> for the incident to read them"
	if g := strings.Join(got, "|"); g != want {
		t.Errorf("doctor:\n%s\nwant:\n%s", g, want)
	}
	// as many as one request reads: there may be more
	c, _ = New(srv.URL, withToken("glsa_ok"), Options{ServiceTag: "app", Limit: 4, Now: func() time.Time { return now }})
	if ck := c.Doctor(context.Background())[3]; !strings.HasPrefix(ck.Detail, "at least 4 (the limit one request reads) in the last 7 days") {
		t.Errorf("at the limit: %s", ck.Detail)
	}
}
