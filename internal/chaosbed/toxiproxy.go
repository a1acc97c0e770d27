package chaosbed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// DefaultToxiproxyAPI is toxiproxy-server's default API address: the one
// the shipped experiments name, and the one a bed's copies replace.
const DefaultToxiproxyAPI = "http://127.0.0.1:8474"

// Toxiproxy is a client of Toxiproxy's HTTP API, enough to set up a bed.
type Toxiproxy struct {
	API  string // base URL, e.g. http://127.0.0.1:8474
	HTTP *http.Client
}

// CreateProxy makes a proxy listening on listen (host:port) in front of
// upstream (host:port), and returns the URL that reaches upstream
// through it.
func (x Toxiproxy) CreateProxy(ctx context.Context, name, listen, upstream string) (string, error) {
	body, err := json.Marshal(map[string]any{"name": name, "listen": listen, "upstream": upstream, "enabled": true})
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, x.API+"/proxies", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := x.HTTP.Do(req)
	if err != nil {
		return "", fmt.Errorf("toxiproxy %s: creating proxy %s: %w", x.API, name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return "", fmt.Errorf("toxiproxy %s: creating proxy %s: HTTP %d: %s", x.API, name, resp.StatusCode, bytes.TrimSpace(msg))
	}
	return "http://" + listen, nil
}

// Toxics are the names of the toxics a proxy has now.
func (x Toxiproxy) Toxics(ctx context.Context, proxy string) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, x.API+"/proxies/"+proxy+"/toxics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := x.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("toxiproxy %s: toxics of %s: %w", x.API, proxy, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("toxiproxy %s: toxics of %s: HTTP %d", x.API, proxy, resp.StatusCode)
	}
	var toxics []struct {
		Name string `json:"name"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&toxics); err != nil {
		return nil, fmt.Errorf("toxiproxy %s: toxics of %s: %w", x.API, proxy, err)
	}
	names := make([]string, len(toxics))
	for i, t := range toxics {
		names[i] = t.Name
	}
	return names, nil
}
