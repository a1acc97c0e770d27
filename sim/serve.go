package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves the headless simulator:
//
//	GET  /metrics         Prometheus exposition of every service
//	POST /api/v1/actions  apply an Action (JSON) and answer the change
//	GET  /                what is running
func (f *Fleet) Handler() http.Handler {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(f.Collector())
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}))
	mux.HandleFunc("POST /api/v1/actions", func(w http.ResponseWriter, r *http.Request) {
		var a Action
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			http.Error(w, "action: "+err.Error(), http.StatusBadRequest)
			return
		}
		c, err := f.Apply(a)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(c)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "oncall simulator: topology %s, scenario %s, seed %d, simulated time %s\n/metrics for Prometheus; POST /api/v1/actions to act\n",
			f.m.topo.Name, f.sc.Name, f.seed, f.Now().Format(time.RFC3339))
	})
	return mux
}
