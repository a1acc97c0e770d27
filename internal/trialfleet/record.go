package trialfleet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/oncall-cockpit/oncall/internal/cassette"
)

// recordedBackends are the datasources a recording proxies.
var recordedBackends = []string{"prometheus", "loki", "tempo"}

// recording proxies oncall's datasources through cassette recorders for
// one case, so CI can replay the slice without the servers.
type recording struct {
	dir     string
	config  string // oncall config pointing at the recorders
	servers []*http.Server
	recs    map[string]*cassette.Recorder
}

// startRecording starts a recorder per datasource of configPath on a
// free local port and writes, into dir, a copy of the config whose
// datasource URLs point at them.
func startRecording(configPath, dir string, at time.Time) (*recording, error) {
	b, err := os.ReadFile(configPath)
	if err != nil {
		return nil, err
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", configPath, err)
	}
	ds, _ := cfg["datasources"].(map[string]any)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	r := &recording{dir: dir, recs: map[string]*cassette.Recorder{}}
	for _, name := range recordedBackends {
		d, _ := ds[name].(map[string]any)
		raw, _ := d["url"].(string)
		if raw == "" {
			continue
		}
		target, err := url.Parse(raw)
		if err != nil {
			r.close()
			return nil, fmt.Errorf("%s: datasources.%s.url: %w", configPath, name, err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			r.close()
			return nil, err
		}
		rec := cassette.NewRecorder(name, target, at)
		srv := &http.Server{Handler: rec, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }() // returns when close shuts it down
		r.servers = append(r.servers, srv)
		r.recs[name] = rec
		d["url"] = "http://" + ln.Addr().String()
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		r.close()
		return nil, err
	}
	r.config = filepath.Join(dir, "oncall.yaml")
	if err := os.WriteFile(r.config, out, 0o644); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// finish stops the recorders and writes the cassettes and case.json.
func (r *recording) finish(c Case, at time.Time) error {
	r.close()
	var errs []error
	for name, rec := range r.recs {
		errs = append(errs, rec.Save(cassette.Path(r.dir, name)))
	}
	errs = append(errs, cassette.WriteCase(r.dir, cassette.Case{Class: string(c.Class), Root: c.Root, At: at,
		Service: c.Entry, BlastRadius: c.BlastRadius}))
	return errors.Join(errs...)
}

func (r *recording) close() {
	for _, s := range r.servers {
		_ = s.Shutdown(context.Background()) // oncall has exited; nothing is in flight
	}
}
