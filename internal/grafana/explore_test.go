package grafana

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestExploreLink(t *testing.T) {
	e := Explore{URL: "https://grafana.example/", UIDs: map[string]string{Loki: "loki-uid", Tempo: "tempo-uid"}}
	from := time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC)
	link, err := e.Link(Loki, `{service_name=~"checkout"} |~ "timeout"`, from, from.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(link)
	if err != nil || u.Host != "grafana.example" || u.Path != "/explore" {
		t.Fatalf("%s: %v", link, err)
	}
	var panes map[string]struct {
		Datasource string           `json:"datasource"`
		Queries    []map[string]any `json:"queries"`
		Range      map[string]string
	}
	if err := json.Unmarshal([]byte(u.Query().Get("panes")), &panes); err != nil {
		t.Fatal(err)
	}
	a := panes["a"]
	if a.Datasource != "loki-uid" || a.Queries[0]["expr"] != `{service_name=~"checkout"} |~ "timeout"` || a.Range["from"] != "1795820400000" {
		t.Errorf("pane %+v", a)
	}
	if link, _ := e.Link(Tempo, "4bf92f3577b34da6a3ce929d0e0e4736", from, from); !strings.Contains(link, "traceql") {
		t.Errorf("tempo link %s", link)
	}
	if _, err := e.Link(Prometheus, "up", from, from); err == nil || !strings.Contains(err.Error(), "grafana.datasources.prometheus") {
		t.Errorf("no UID: %v", err)
	}
	if _, err := (Explore{}).Link(Loki, "x", from, from); err == nil || !strings.Contains(err.Error(), "grafana.url") {
		t.Errorf("no URL: %v", err)
	}
}
