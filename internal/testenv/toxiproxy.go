package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Toxiproxy is a running toxiproxy-server, a real TCP fault injector.
type Toxiproxy struct {
	api string
	t   testing.TB
}

// StartToxiproxy runs toxiproxy-server (installed by the README's test
// command with go install) on a free loopback port.
func StartToxiproxy(t testing.TB) *Toxiproxy {
	t.Helper()
	bin := Binary(t, "toxiproxy-server")
	addr := FreeAddr(t)
	host, port, _ := strings.Cut(addr, ":")
	Start(t, "http://"+addr+"/version", bin, "-host", host, "-port", port)
	return &Toxiproxy{api: "http://" + addr, t: t}
}

func (x *Toxiproxy) call(method, path string, body any) {
	x.t.Helper()
	var b bytes.Buffer
	if body != nil {
		if err := json.NewEncoder(&b).Encode(body); err != nil {
			x.t.Fatal(err)
		}
	}
	req, _ := http.NewRequest(method, x.api+path, &b)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		x.t.Fatalf("toxiproxy %s %s: %v", method, path, err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		x.t.Fatalf("toxiproxy %s %s: HTTP %d", method, path, resp.StatusCode)
	}
}

// Proxy creates a proxy to upstream (host:port) and returns its listen address.
func (x *Toxiproxy) Proxy(name, upstream string) string {
	x.t.Helper()
	listen := FreeAddr(x.t)
	x.call(http.MethodPost, "/proxies", map[string]any{"name": name, "listen": listen, "upstream": upstream, "enabled": true})
	return listen
}

// SetEnabled turns a proxy on or off; off refuses connections.
func (x *Toxiproxy) SetEnabled(name string, on bool) {
	x.t.Helper()
	x.call(http.MethodPost, "/proxies/"+name, map[string]any{"enabled": on})
}

// AddToxic adds a toxic (latency, reset_peer, timeout, ...) to a proxy's
// downstream direction.
func (x *Toxiproxy) AddToxic(proxy, toxic, kind string, attrs map[string]any) {
	x.t.Helper()
	x.call(http.MethodPost, fmt.Sprintf("/proxies/%s/toxics", proxy),
		map[string]any{"name": toxic, "type": kind, "stream": "downstream", "toxicity": 1.0, "attributes": attrs})
}

// RemoveToxic removes a toxic.
func (x *Toxiproxy) RemoveToxic(proxy, toxic string) {
	x.t.Helper()
	x.call(http.MethodDelete, fmt.Sprintf("/proxies/%s/toxics/%s", proxy, toxic), nil)
}

// API is the server's base URL, for the requests these helpers do not make.
func (x *Toxiproxy) API() string { return x.api }
