package testenv

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sim"
)

// TestSimOpenMetricsFileHoldsTheSamplesOfSimOpenMetrics: the streamed
// file, one step at a time, holds exactly the samples of the in-memory
// rendering, only in another order and without TYPE lines.
func TestSimOpenMetricsFileHoldsTheSamplesOfSimOpenMetrics(t *testing.T) {
	samples := func(text string) []string {
		var out []string
		for _, l := range strings.Split(text, "\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				out = append(out, l)
			}
		}
		sort.Strings(out)
		return out
	}
	from := sim.Epoch.Add(time.Minute)
	to := from.Add(time.Minute)
	a, err := sim.New(sim.Options{Scenario: "retry-storm", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	want, err := SimOpenMetrics(a, from, to, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sim.New(sim.Options{Scenario: "retry-storm", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "history.om")
	n, err := SimOpenMetricsFile(b, from, to, 15*time.Second, path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(got)) != n {
		t.Errorf("reported %d bytes, wrote %d", n, len(got))
	}
	if !strings.HasSuffix(string(got), "\n# EOF\n") {
		t.Errorf("the file does not end with # EOF")
	}
	w, g := samples(want), samples(string(got))
	if len(w) == 0 || strings.Join(w, "\n") != strings.Join(g, "\n") {
		t.Fatalf("the file holds %d samples, SimOpenMetrics %d; first %q vs %q", len(g), len(w), first(g), first(w))
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// TestLoggingProxyLogsEachRequest: a form-encoded POST, as the Prometheus
// client sends it, reaches the server whole, and the log names its path,
// query, status and answer size.
func TestLoggingProxyLogsEachRequest(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		fmt.Fprintf(w, "answer to %s", r.PostForm.Get("query"))
	}))
	defer backend.Close()
	proxy, log := LoggingProxy(t, backend.URL)
	resp, err := http.PostForm(proxy+"/api/v1/query_range", url.Values{"query": {"up"}, "step": {"15"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "answer to up" {
		t.Fatalf("the server answered %q through the proxy", body)
	}
	s, ok := log.Slowest()
	if !ok || len(log.Requests()) != 1 {
		t.Fatalf("logged %+v", log.Requests())
	}
	if s.Path != "/api/v1/query_range" || s.Query != "up" || s.Form.Get("step") != "15" || s.Code != http.StatusOK || s.Bytes != int64(len(body)) || s.Took <= 0 {
		t.Errorf("logged %+v", s)
	}
	log.Reset()
	if _, ok := log.Slowest(); ok {
		t.Errorf("the log holds requests after Reset")
	}
}

// TestLoggingProxyLogsAnAnswerTheClientLeft: a client that leaves in the
// middle of an answer, as oncall does at its deadline, makes the proxy
// abort; the request is still logged, and the log does not wait for it
// forever.
func TestLoggingProxyLogsAnAnswerTheClientLeft(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("first part "))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the client has left
		for i := 0; i < 100; i++ {
			if _, err := w.Write(make([]byte, 64<<10)); err != nil {
				return
			}
		}
	}))
	defer backend.Close()
	proxy, log := LoggingProxy(t, backend.URL)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, proxy+"/api/v1/query?query=up", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, len("first part "))); err != nil {
		t.Fatal(err)
	}
	cancel()
	resp.Body.Close()
	rs := log.Requests()
	if len(rs) != 1 || rs[0].Query != "up" {
		t.Fatalf("logged %+v", rs)
	}
}
