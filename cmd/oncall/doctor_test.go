package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/testenv"
)

// fixtureServer serves recorded answers by path.
func fixtureServer(t *testing.T, routes map[string][]byte) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for prefix, body := range routes {
			if strings.HasPrefix(r.URL.Path, prefix) {
				w.Write(body)
				return
			}
		}
		http.Error(w, "404 page not found", http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// The end-to-end check: doctor against a real Prometheus (seeded
// with span metrics and a service graph) and a real Alertmanager, with Loki
// and Tempo replaying recorded answers.
func TestDoctorAgainstRealServers(t *testing.T) {
	am := testenv.Alertmanager(t)
	prom := testenv.Prometheus(t, testenv.PrometheusOptions{OpenMetrics: testenv.FleetOpenMetrics(time.Now().Add(-30*time.Second), 30*time.Minute)})
	buildinfo := []byte(`{"version":"3.5.0","revision":"fixture"}`) // Loki and Tempo answer buildinfo in Prometheus's format
	loki := fixtureServer(t, map[string][]byte{
		"/loki/api/v1/labels":           testenv.Fixture(t, "loki_labels.json"),
		"/loki/api/v1/label/":           testenv.Fixture(t, "loki_label_values_service_name.json"),
		"/loki/api/v1/query_range":      testenv.Fixture(t, "loki_query_range_streams.json"),
		"/loki/api/v1/status/buildinfo": buildinfo,
	})
	tempo := fixtureServer(t, map[string][]byte{
		"/api/v2/search/tags":   testenv.Fixture(t, "tempo_search_tags_v2.json"),
		"/api/v2/search/tag/":   testenv.Fixture(t, "tempo_tag_values_service_name.json"),
		"/api/search":           testenv.Fixture(t, "tempo_search_traceql.json"),
		"/api/v2/traces/":       testenv.Fixture(t, "tempo_v2_trace_by_id.json"),
		"/api/status/buildinfo": buildinfo,
	})
	cfg := writeFile(t, "config.yaml", fmt.Sprintf(`datasources:
  prometheus: {url: %s}
  loki: {url: %s}
  tempo: {url: %s}
  alertmanager: {url: %s}
`, prom, loki, tempo, am))

	r := oncall(t, map[string]string{"NO_COLOR": "1"}, "", "doctor", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.out, r.err)
	}
	for _, want := range []string{
		"prometheus " + prom, "RED metrics      ✓ ok    preset spanmetrics, 3 services by label \"service\": checkout, payments, web-gateway",
		"service graph    ✓ ok    5 edges",
		"loki " + loki, "trace IDs in logs  ✓ ok", "29 of the last 29 lines carry a trace ID",
		"tempo " + tempo, "found and fetched trace",
		"alertmanager " + am, "cluster disabled",
		"all datasources ok",
	} {
		if !strings.Contains(strings.Join(strings.Fields(r.out), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("doctor output lacks %q:\n%s", want, r.out)
		}
	}
	if strings.Contains(r.out, "\x1b[") {
		t.Errorf("colour under NO_COLOR:\n%q", r.out)
	}

	r = oncall(t, nil, "", "doctor", "--config", cfg, "-o", "json")
	var rep doctorReport
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil || !rep.OK || len(rep.Datasources) != 4 {
		t.Fatalf("json report %v: %s", err, r.out)
	}
}

func TestDoctorFailsOnUnreachableBackendAndRejectedAuth(t *testing.T) {
	denied := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no org id", http.StatusUnauthorized)
	}))
	defer denied.Close()
	cfg := writeFile(t, "config.yaml", fmt.Sprintf(`datasources:
  loki: {url: %s, tenant: wrong}
  alertmanager: {url: http://%s, timeout: 2s}
`, denied.URL, testenv.FreeAddr(t)))
	r := oncall(t, nil, "", "doctor", "--config", cfg)
	if r.code != 1 || !strings.Contains(r.out, "some checks FAILED") {
		t.Fatalf("exit %d:\n%s%s", r.code, r.out, r.err)
	}
	out := strings.Join(strings.Fields(r.out), " ")
	for _, want := range []string{"reachable ✓ ok answered HTTP 401", "auth and tenant ✗ FAIL", "no org id", "reachable ✗ FAIL", "connection refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, r.out)
		}
	}
}

func TestDoctorWithoutDatasourcesSaysWhatToDo(t *testing.T) {
	cfg := writeFile(t, "config.yaml", "")
	r := oncall(t, nil, "", "doctor", "--config", cfg)
	if r.code != 1 || !strings.Contains(r.err, "no datasources configured") || !strings.Contains(r.err, "import-grafana") {
		t.Fatalf("%+v", r)
	}
}

func TestDoctorOptions(t *testing.T) {
	o, err := optionsFor(t, NewCmdDoctor)
	if err != nil {
		t.Fatal(err)
	}
	if o.Factory == nil || o.output != "text" || o.timeout != 30*time.Second {
		t.Errorf("defaults: %+v", *o)
	}
	if o, err = optionsFor(t, NewCmdDoctor, "-o", "json", "--timeout", "5s"); err != nil || o.output != "json" || o.timeout != 5*time.Second {
		t.Errorf("parsed: %v %+v", err, o)
	}
	for _, args := range [][]string{{"extra"}, {"--timeout", "soon"}, {"-o", "yaml"}} {
		if _, err := optionsFor(t, NewCmdDoctor, args...); exitCode(err) != exitUsage {
			t.Errorf("%q: err %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
}

// timedWriter keeps what was written and when.
type timedWriter struct {
	mu     sync.Mutex
	writes []timedWrite
}

type timedWrite struct {
	at   time.Time
	text string
}

func (w *timedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, timedWrite{time.Now(), string(p)})
	return len(p), nil
}

// writtenAt is when text was first seen in what was written.
func (w *timedWriter) writtenAt(text string) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var all strings.Builder
	for _, wr := range w.writes {
		all.WriteString(wr.text)
		if strings.Contains(all.String(), text) {
			return wr.at, true
		}
	}
	return time.Time{}, false
}

// TestDoctorShowsEachDatasourceAsItEnds: a server that accepts
// connections and never answers does not hold back the results of the
// datasources before it in config order, which are written as soon as
// their checks end; its own failure says --timeout.
func TestDoctorShowsEachDatasourceAsItEnds(t *testing.T) {
	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	var held []net.Conn
	go func() {
		for {
			c, err := hung.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // accepted, never answered
		}
	}()
	denied := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no org id", http.StatusUnauthorized)
	}))
	defer denied.Close()
	// tempo comes after loki in config order
	cfg := writeFile(t, "config.yaml", fmt.Sprintf("datasources:\n  tempo: {url: http://%s, retries: 0}\n  loki: {url: %s, retries: 0}\n", hung.Addr(), denied.URL))
	out := &timedWriter{}
	e := &env{IO: IOStreams{In: strings.NewReader(""), Out: out, ErrOut: io.Discard}, LookupEnv: func(string) (string, bool) { return "", false }, Now: time.Now, osUser: osUserName}
	start := time.Now()
	const timeout = 3 * time.Second
	if code := run(context.Background(), e, []string{"doctor", "--config", cfg, "--timeout", timeout.String()}); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	// the hung tempo cannot end before its timeout, so whatever was
	// written before then was written as it ended, not held back
	lokiAt, ok := out.writtenAt("auth and tenant  ✗ FAIL")
	if !ok || lokiAt.Sub(start) >= timeout {
		t.Errorf("loki's result came %s in (found %v), want before the hung tempo's timeout of %s", lokiAt.Sub(start), ok, timeout)
	}
	if _, ok := out.writtenAt("no answer by --timeout"); !ok {
		t.Errorf("the hung tempo's failure does not name --timeout")
	}
	tempoAt, ok := out.writtenAt("tempo http://" + hung.Addr().String())
	if !ok || tempoAt.Sub(start) < timeout {
		t.Errorf("the hung tempo's result came %s in (found %v)", tempoAt.Sub(start), ok)
	}
}

// TestDoctorOffATerminalWritesConfigOrder: in a pipe or a CI log, the
// datasources come in config order whatever order they end in, so two
// runs read alike: a slow prometheus still comes before a quick loki.
func TestDoctorOffATerminalWritesConfigOrder(t *testing.T) {
	deny := func(after time.Duration) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(after)
			http.Error(w, "no org id", http.StatusUnauthorized)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	slow, quick := deny(300*time.Millisecond), deny(0)
	cfg := writeFile(t, "config.yaml", fmt.Sprintf("datasources:\n  loki: {url: %s, retries: 0}\n  prometheus: {url: %s, retries: 0}\n", quick.URL, slow.URL))
	r := oncallAt(t, time.Now, nil, "", "doctor", "--config", cfg, "--no-color")
	prom, loki := strings.Index(r.out, "prometheus "+slow.URL), strings.Index(r.out, "loki "+quick.URL)
	if r.code != 1 || prom < 0 || loki < 0 || prom > loki {
		t.Errorf("exit %d; prometheus at %d, loki at %d, want prometheus first:\n%s", r.code, prom, loki, r.out)
	}
}

// TestHangDetailKeepsItsColumn: a long detail wraps under its first line
// on a terminal, and stays one line off one or when the column is narrow.
func TestHangDetailKeepsItsColumn(t *testing.T) {
	d := "no series: build_info, target_info, kube_deploy, process_restart (see conventions.changes)"
	want := "no series: build_info,\n" +
		"          target_info, kube_deploy,\n" +
		"          process_restart (see\n" +
		"          conventions.changes)"
	if got := hangDetail(d, 10, 40); got != want {
		t.Errorf("wrapped:\n%s\nwant:\n%s", got, want)
	}
	for _, width := range []int{0, 35, 200} {
		if got := hangDetail(d, 10, width); got != d {
			t.Errorf("width %d: %q", width, got)
		}
	}
}

// TestDoctorChecksGrafanaAnnotations: with grafana.annotations set, doctor
// checks the annotations API with the token, says how many annotations
// name a service, and fails on a refused token without printing it.
func TestDoctorChecksGrafanaAnnotations(t *testing.T) {
	// an hour ago: doctor counts the last week's annotations, and an
	// annotation outside the range asked for is dropped
	ms := time.Now().Add(-time.Hour).UnixMilli()
	grafana := fakeGrafana(t, "glsa_g00d", fmt.Sprintf(`[{"id":41,"time":%d,"text":"deploy","tags":["deploy","service:checkout"]},{"id":42,"time":%d,"text":"holiday","tags":[]}]`, ms, ms))
	config := func(token string) string {
		return writeFile(t, "config.yaml", fmt.Sprintf("grafana: {url: %s, bearer_token: %s, annotations: {}}\n", grafana.URL, token))
	}

	r := oncall(t, map[string]string{"NO_COLOR": "1"}, "", "doctor", "--config", config("glsa_g00d"))
	out := strings.Join(strings.Fields(r.out), " ")
	for _, want := range []string{"grafana annotations " + grafana.URL, "version ✓ ok 11.3.0",
		"annotations ✓ ok 2 in the last 7 days, 1 name a service with a service: tag", "all datasources ok"} {
		if r.code != 0 || !strings.Contains(out, want) {
			t.Errorf("exit %d, lacks %q:\n%s%s", r.code, want, r.out, r.err)
		}
	}

	r = oncall(t, map[string]string{"NO_COLOR": "1"}, "", "doctor", "--config", config("glsa_wr0ng"), "--verbose")
	out = strings.Join(strings.Fields(r.out), " ")
	if r.code != 1 || !strings.Contains(out, "auth and tenant ✗ FAIL") || strings.Contains(r.out+r.err, "glsa_wr0ng") {
		t.Errorf("refused token: exit %d\n%s%s", r.code, r.out, r.err)
	}
}
