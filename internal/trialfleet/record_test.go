package trialfleet

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/oncall-cockpit/oncall/internal/cassette"
)

func TestRecordingProxiesEachDatasourceAndWritesTheCase(t *testing.T) {
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
	}))
	defer prom.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "oncall.yaml")
	body := "datasources:\n  prometheus:\n    url: " + prom.URL + "\nconventions:\n  service_label:\n    prometheus: service\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "rec", "01-slow-db-harbor")
	rec, err := startRecording(cfg, out, t0)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(rec.config)
	var got struct {
		Datasources map[string]struct{ URL string } `yaml:"datasources"`
		Conventions map[string]any                  `yaml:"conventions"`
	}
	if err := yaml.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	proxy := got.Datasources["prometheus"].URL
	if proxy == prom.URL || !strings.HasPrefix(proxy, "http://127.0.0.1:") || got.Conventions == nil {
		t.Fatalf("recording config = %s", b)
	}
	resp, err := http.Get(proxy + "/api/v1/query?query=up")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c := Case{Class: SlowDB, Root: "berth-pg", Entry: "harbor-gate", BlastRadius: []string{"berth-pg"}}
	if err := rec.finish(c, t0); err != nil {
		t.Fatal(err)
	}
	cas, err := cassette.Load(cassette.Path(out, "prometheus"))
	if err != nil || len(cas.Exchanges) != 1 {
		t.Fatalf("cassette: %v, %+v", err, cas)
	}
	rc, err := cassette.ReadCase(out)
	if err != nil || rc.Root != "berth-pg" || rc.Service != "harbor-gate" || !rc.At.Equal(t0) {
		t.Errorf("case.json = %+v, %v", rc, err)
	}
}
