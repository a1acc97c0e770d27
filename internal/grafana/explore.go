// Package grafana builds links into a Grafana's Explore, so that a panel
// of the cockpit can be opened where the team already works. It imports
// nothing of this module.
package grafana

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Kinds of datasource a link can open, as Grafana names their types.
const (
	Prometheus = "prometheus"
	Loki       = "loki"
	Tempo      = "tempo"
)

// Explore is a Grafana and the UIDs of its datasources for oncall's
// backends (prometheus, loki, tempo).
type Explore struct {
	URL  string
	UIDs map[string]string
}

// Link opens query in Explore on the datasource of kind, over [from, to]:
// PromQL and LogQL as expressions, a trace ID (or TraceQL) in Tempo. It
// uses Grafana 10's panes form of the URL.
func (e Explore) Link(kind, query string, from, to time.Time) (string, error) {
	if e.URL == "" {
		return "", fmt.Errorf("no grafana.url in the config: Explore links need it")
	}
	uid := e.UIDs[kind]
	if uid == "" {
		return "", fmt.Errorf("no grafana.datasources.%s in the config: the UID of Grafana's %s datasource", kind, kind)
	}
	q := map[string]any{"refId": "A", "datasource": map[string]string{"type": kind, "uid": uid}}
	switch kind {
	case Tempo:
		q["queryType"], q["query"] = "traceql", query
	default:
		q["expr"] = query
	}
	pane := map[string]any{"a": map[string]any{"datasource": uid, "queries": []any{q},
		"range": map[string]string{"from": strconv.FormatInt(from.UnixMilli(), 10), "to": strconv.FormatInt(to.UnixMilli(), 10)}}}
	b, err := json.Marshal(pane)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(e.URL, "/") + "/explore?schemaVersion=1&orgId=1&panes=" + url.QueryEscape(string(b)), nil
}
