package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/oncall-cockpit/oncall/internal/httpx"
)

// TestVerboseWritesOneLinePerRequestOnStderr runs services -v on a
// Prometheus reached with a password and a secret header: every request
// it answered is one line on stderr, with its query and no secret, and
// stdout holds the table alone.
func TestVerboseWritesOneLinePerRequestOnStderr(t *testing.T) {
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"service":"checkout-api"},"values":[[1795575540,"12"],[1795575600,"12"]]}]}}`))
	}))
	t.Cleanup(srv.Close)
	cfg := writeFile(t, "config.yaml", "datasources:\n  prometheus:\n    url: "+srv.URL+"\n    retries: 0\n"+
		"    basic_auth: {username: ops, password: "+secretCore+"-password}\n    headers: {X-Api-Key: "+secretCore+"-header}\n")
	r := oncall(t, nil, "", "services", "-v", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.out, "checkout-api") {
		t.Fatalf("%+v", r)
	}
	if strings.Contains(r.out, "oncall: http ") || strings.Contains(r.out+r.err, secretCore) {
		t.Errorf("a request line on stdout, or a secret anywhere:\n%+v", r)
	}
	var lines int
	for _, l := range strings.Split(strings.TrimSuffix(r.err, "\n"), "\n") {
		req, ok := httpx.ParseRequestLine(l)
		if !ok {
			t.Errorf("stderr holds a line that is not a request: %q", l)
			continue
		}
		lines++
		if req.Backend != "prometheus" || req.Status != 200 || req.Bytes == 0 || !strings.Contains(req.Detail, "query=") {
			t.Errorf("line %q read as %+v", l, req)
		}
	}
	if n := int(served.Load()); n == 0 || lines != n {
		t.Errorf("%d lines for %d requests", lines, n)
	}
	if quiet := oncall(t, nil, "", "services", "--config", cfg); quiet.code != 0 || quiet.err != "" {
		t.Errorf("without -v: %+v", quiet)
	}
}

func TestHelpShowsVerbose(t *testing.T) {
	r := oncall(t, nil, "", "--help")
	if r.code != 0 || !strings.Contains(r.out, "-v, --verbose") {
		t.Errorf("%+v", r)
	}
}
