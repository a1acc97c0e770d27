package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/oncall-cockpit/oncall/internal/httpcall"
	"github.com/oncall-cockpit/oncall/sources"
)

const backend = "alertmanager"

// Client talks to one Alertmanager.
type Client struct {
	base   *url.URL
	hc     *http.Client
	alerts sources.AlertConventions
}

var (
	_ sources.Alerting = (*Client)(nil)
	_ sources.Doctor   = (*Client)(nil)
)

// New returns a client for the Alertmanager at baseURL. The conventions
// say which alert label names the service.
func New(baseURL string, hc *http.Client, conv sources.Conventions) (*Client, error) {
	u, err := httpcall.ParseBaseURL(backend, baseURL)
	if err != nil {
		return nil, err
	}
	return &Client{base: u, hc: hc, alerts: conv.Alerts}, nil
}

func (c *Client) call(ctx context.Context, op, method, path string, q url.Values, in, out any) error {
	u := *c.base
	u.Path += path
	u.RawQuery = q.Encode()
	var body *bytes.Reader
	var h http.Header
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return &sources.BackendError{Backend: backend, Op: op, Err: err}
		}
		body = bytes.NewReader(b)
		h = http.Header{"Content-Type": {"application/json"}}
	} else {
		body = bytes.NewReader(nil)
	}
	resp, _, err := httpcall.Do(ctx, c.hc, backend, op, method, u.String(), body, h)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(resp, out); err != nil {
		return &sources.BackendError{Backend: backend, Op: op, Err: fmt.Errorf("decoding: %w", err)}
	}
	return nil
}

// gettableAlert is the v2 API's alert.
type gettableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	Fingerprint  string            `json:"fingerprint"`
	GeneratorURL string            `json:"generatorURL"`
	Status       struct {
		State       string   `json:"state"` // active, suppressed, unprocessed
		SilencedBy  []string `json:"silencedBy"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status"`
}

// DecodeAlerts decodes GET /api/v2/alerts; conv names each alert's service.
func DecodeAlerts(b []byte, conv sources.AlertConventions) ([]sources.Alert, error) {
	var in []gettableAlert
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("decoding alerts: %w", err)
	}
	out := make([]sources.Alert, 0, len(in))
	for i, a := range in {
		if a.Labels["alertname"] == "" {
			return nil, fmt.Errorf("alert %d (fingerprint %q) has no alertname label", i, a.Fingerprint)
		}
		state := sources.AlertFiring
		if a.Status.State == "suppressed" {
			state = sources.AlertSuppressed
		}
		label, service := conv.Service(a.Labels)
		out = append(out, sources.Alert{Name: a.Labels["alertname"], Service: service, ServiceLabel: label, Fingerprint: a.Fingerprint, State: state,
			Severity: a.Labels["severity"], Labels: a.Labels, Annotations: a.Annotations,
			StartsAt: a.StartsAt, EndsAt: a.EndsAt, SilencedBy: a.Status.SilencedBy,
			InhibitedBy: a.Status.InhibitedBy, GeneratorURL: a.GeneratorURL})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartsAt.Before(out[j].StartsAt) })
	return out, nil
}

// Alerts returns active, silenced and inhibited alerts.
func (c *Client) Alerts(ctx context.Context) ([]sources.Alert, error) {
	var raw json.RawMessage
	if err := c.call(ctx, "alerts", http.MethodGet, "/api/v2/alerts", nil, nil, &raw); err != nil {
		return nil, err
	}
	alerts, err := DecodeAlerts(raw, c.alerts)
	if err != nil {
		return nil, &sources.BackendError{Backend: backend, Op: "alerts", Err: err}
	}
	return alerts, nil
}

// silence is the v2 API's silence; its matchers are camelCase on the wire.
type silence struct {
	ID        string    `json:"id,omitempty"`
	Matchers  []matcher `json:"matchers"`
	StartsAt  time.Time `json:"startsAt"`
	EndsAt    time.Time `json:"endsAt"`
	CreatedBy string    `json:"createdBy"`
	Comment   string    `json:"comment"`
	Status    *struct {
		State string `json:"state"`
	} `json:"status,omitempty"`
}

type matcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual bool   `json:"isEqual"`
}

// Silences lists every silence Alertmanager still holds.
func (c *Client) Silences(ctx context.Context) ([]sources.Silence, error) {
	var in []silence
	if err := c.call(ctx, "silences", http.MethodGet, "/api/v2/silences", nil, nil, &in); err != nil {
		return nil, err
	}
	out := make([]sources.Silence, 0, len(in))
	for _, s := range in {
		ss := sources.Silence{ID: s.ID, StartsAt: s.StartsAt, EndsAt: s.EndsAt, CreatedBy: s.CreatedBy, Comment: s.Comment}
		for _, m := range s.Matchers {
			ss.Matchers = append(ss.Matchers, sources.Matcher(m))
		}
		if s.Status != nil {
			ss.State = sources.SilenceState(s.Status.State)
		}
		out = append(out, ss)
	}
	return out, nil
}

// CreateSilence creates a silence and returns its ID. It is not retried:
// a retry after a lost answer would create a second silence.
func (c *Client) CreateSilence(ctx context.Context, s sources.Silence) (string, error) {
	if len(s.Matchers) == 0 {
		return "", fmt.Errorf("alertmanager create silence: at least one matcher is required")
	}
	if s.CreatedBy == "" || s.Comment == "" {
		return "", fmt.Errorf("alertmanager create silence: created_by and comment are required")
	}
	var out struct {
		SilenceID string `json:"silenceID"`
	}
	in := silence{StartsAt: s.StartsAt, EndsAt: s.EndsAt, CreatedBy: s.CreatedBy, Comment: s.Comment}
	for _, m := range s.Matchers {
		in.Matchers = append(in.Matchers, matcher(m))
	}
	if err := c.call(ctx, "create silence", http.MethodPost, "/api/v2/silences", nil, in, &out); err != nil {
		return "", err
	}
	return out.SilenceID, nil
}

// ExpireSilence ends a silence now.
func (c *Client) ExpireSilence(ctx context.Context, id string) error {
	return c.call(ctx, "expire silence "+id, http.MethodDelete, "/api/v2/silence/"+url.PathEscape(id), nil, nil, nil)
}

// Status is the part of /api/v2/status the doctor reports.
type Status struct {
	Version string
	Cluster string
}

// Status returns Alertmanager's version and cluster state.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var s struct {
		VersionInfo struct {
			Version string `json:"version"`
		} `json:"versionInfo"`
		Cluster struct {
			Status string `json:"status"`
		} `json:"cluster"`
	}
	if err := c.call(ctx, "status", http.MethodGet, "/api/v2/status", nil, nil, &s); err != nil {
		return Status{}, err
	}
	return Status{Version: s.VersionInfo.Version, Cluster: s.Cluster.Status}, nil
}

// Doctor checks reachability, auth and tenant, version and cluster state,
// and that alerts and silences can be listed.
func (c *Client) Doctor(ctx context.Context) []sources.Check {
	st, err := c.Status(ctx)
	checks := sources.AccessCheck(err)
	if err != nil {
		return checks
	}
	v := sources.VersionCheck(st.Version, nil)
	if st.Cluster != "" {
		v.Detail += ", cluster " + st.Cluster
	}
	checks = append(checks, v)
	alerts, err := c.Alerts(ctx)
	if err != nil {
		return append(checks, sources.Check{Name: "alerts", Status: sources.CheckFail, Detail: err.Error(), Err: err})
	}
	checks = append(checks, sources.Check{Name: "alerts", Status: sources.CheckOK, Detail: fmt.Sprintf("%d alerts", len(alerts))})
	silences, err := c.Silences(ctx)
	if err != nil {
		return append(checks, sources.Check{Name: "silences", Status: sources.CheckFail, Detail: err.Error(), Err: err})
	}
	return append(checks, sources.Check{Name: "silences", Status: sources.CheckOK, Detail: fmt.Sprintf("%d silences", len(silences))})
}
