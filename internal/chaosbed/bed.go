package chaosbed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The services' names, as the metrics' service label carries them.
const (
	Ledger = "ledger"
	Orders = "orders"
)

// Defaults of Options.
const (
	// DefaultRate is enough requests for a 1% error ratio to be a few
	// requests a second, yet light on a shared CI machine.
	DefaultRate = 50
	// DefaultTimeout is orders' client timeout towards ledger: far above
	// ledger's 5 ms, so a modest latency toxic passes and one above it
	// turns into 502s.
	DefaultTimeout = 300 * time.Millisecond
	// DefaultLedgerDelay is how long ledger takes to answer.
	DefaultLedgerDelay = 5 * time.Millisecond
)

// latencyBuckets resolve a p99 from ledger's 5 ms to a 2 s guard: fine
// below 100 ms where a latency toxic's effect shows, coarser above.
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1,
	0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5}

// Options configure a bed. Zero values take the defaults.
type Options struct {
	// Route puts the fault injector between orders and ledger: given
	// ledger's host:port, it returns the base URL orders calls ledger
	// through (Toxiproxy's proxy, created there). It runs before orders
	// takes load, so no request fails for want of the proxy. nil calls
	// ledger directly.
	Route func(ctx context.Context, ledgerAddr string) (string, error)
	// Rate is the load generator's requests per second against orders;
	// negative sends none.
	Rate float64
	// Timeout is orders' client timeout towards ledger.
	Timeout time.Duration
	// LedgerDelay is how long ledger takes to answer.
	LedgerDelay time.Duration
}

// Bed is a running ledger, orders, load generator and metrics endpoint,
// each on a free loopback port.
type Bed struct {
	LedgerAddr string // host:port
	LedgerURL  string // what orders calls: the route's URL, or ledger itself
	OrdersURL  string
	// MetricsAddr is the scrape target (host:port); MetricsURL its
	// /metrics.
	MetricsAddr string
	MetricsURL  string

	servers []*http.Server
	stop    context.CancelFunc
	load    sync.WaitGroup
}

// Start runs a bed until Close or until ctx ends.
func Start(ctx context.Context, o Options) (*Bed, error) {
	if o.Rate == 0 {
		o.Rate = DefaultRate
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.LedgerDelay == 0 {
		o.LedgerDelay = DefaultLedgerDelay
	}
	reg := prometheus.NewRegistry()
	durations := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "http_server_request_duration_seconds",
		Help:    "Duration of HTTP server requests, as OpenTelemetry's HTTP semantic conventions name it.",
		Buckets: latencyBuckets,
	}, []string{"service", "http_response_status_code"})
	reg.MustRegister(durations)

	runCtx, stop := context.WithCancel(ctx)
	b := &Bed{stop: stop}
	fail := func(err error) (*Bed, error) {
		b.Close()
		return nil, err
	}
	metricsAddr, err := b.serve(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	if err != nil {
		return fail(fmt.Errorf("chaosbed metrics: %w", err))
	}
	b.MetricsAddr, b.MetricsURL = metricsAddr, "http://"+metricsAddr+"/metrics"

	ledger := instrument(Ledger, durations, func(w http.ResponseWriter, r *http.Request) int {
		select {
		case <-time.After(o.LedgerDelay):
		case <-r.Context().Done():
			return http.StatusServiceUnavailable
		}
		_, _ = io.WriteString(w, "ok\n")
		return http.StatusOK
	})
	if b.LedgerAddr, err = b.serve(ledger); err != nil {
		return fail(fmt.Errorf("chaosbed ledger: %w", err))
	}
	b.LedgerURL = "http://" + b.LedgerAddr
	if o.Route != nil {
		if b.LedgerURL, err = o.Route(ctx, b.LedgerAddr); err != nil {
			return fail(fmt.Errorf("chaosbed: routing orders to ledger at %s: %w", b.LedgerAddr, err))
		}
	}

	toLedger := &http.Client{Timeout: o.Timeout}
	orders := instrument(Orders, durations, func(w http.ResponseWriter, r *http.Request) int {
		req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, b.LedgerURL+"/balance", nil)
		if err != nil {
			return http.StatusInternalServerError
		}
		resp, err := toLedger.Do(req)
		if err != nil {
			return http.StatusBadGateway
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return http.StatusBadGateway
		}
		_, _ = io.WriteString(w, "ok\n")
		return http.StatusOK
	})
	ordersAddr, err := b.serve(orders)
	if err != nil {
		return fail(fmt.Errorf("chaosbed orders: %w", err))
	}
	b.OrdersURL = "http://" + ordersAddr
	if o.Rate > 0 {
		b.load.Add(1)
		go b.generate(runCtx, o.Rate, o.Timeout)
	}
	return b, nil
}

// instrument records each request's duration under its service and the
// status the handler answered.
func instrument(service string, d *prometheus.HistogramVec, h func(http.ResponseWriter, *http.Request) int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusWriter{ResponseWriter: w}
		code := h(rec, r)
		if !rec.wrote {
			w.WriteHeader(code)
		}
		d.WithLabelValues(service, strconv.Itoa(code)).Observe(time.Since(start).Seconds())
	})
}

// statusWriter writes the handler's status before its first body byte.
type statusWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *statusWriter) Write(p []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(p)
}

// serve runs h on a free loopback port and returns its host:port.
func (b *Bed) serve(h http.Handler) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	b.servers = append(b.servers, srv)
	go func() { _ = srv.Serve(l) }()
	return l.Addr().String(), nil
}

// generate sends rate requests a second to orders, each on its own so a
// slow answer never lowers the rate, as real clients do not wait either.
func (b *Bed) generate(ctx context.Context, rate float64, timeout time.Duration) {
	defer b.load.Done()
	// orders answers within its own timeout to ledger; the margin covers
	// the hop to orders itself
	client := &http.Client{Timeout: timeout + 2*time.Second}
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	var inflight sync.WaitGroup
	defer inflight.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		inflight.Add(1)
		go func() {
			defer inflight.Done()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.OrdersURL+"/order", nil)
			if err != nil {
				return
			}
			resp, err := client.Do(req)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
	}
}

// Close stops the load and the servers.
func (b *Bed) Close() error {
	b.stop()
	b.load.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, s := range b.servers {
		if err := s.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
