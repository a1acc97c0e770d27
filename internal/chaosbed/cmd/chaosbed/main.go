// Command chaosbed runs the chaos test bed on this machine: a real
// toxiproxy-server and Prometheus, the bed's ledger and orders services
// with orders calling ledger through Toxiproxy, and an oncall config and
// the shipped Toxiproxy experiments pointing at them. It prints the
// commands to run an experiment, and runs until interrupted
// (make chaos-testbed).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/oncall-cockpit/oncall/internal/chaosbed"
)

// What to install when a server is not on PATH.
var install = map[string]string{
	"toxiproxy-server": "go install github.com/Shopify/toxiproxy/v2/cmd/toxiproxy-server@latest",
	"prometheus":       "apt-get install prometheus (Debian, Ubuntu) or a release from https://prometheus.io/download/",
}

func main() {
	expDir := flag.String("experiments", filepath.Join("testdata", "experiments"), "the shipped experiments to copy (their toxiproxy-*.yaml)")
	dir := flag.String("dir", "", "where the bed keeps its config, data and logs (default a new temporary directory, removed at exit)")
	rate := flag.Float64("rate", chaosbed.DefaultRate, "requests per second the load generator sends to orders")
	timeout := flag.Duration("timeout", chaosbed.DefaultTimeout, "orders' client timeout towards ledger")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, *expDir, *dir, *rate, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "chaosbed:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, expDir, dir string, rate float64, timeout time.Duration) error {
	bins := map[string]string{}
	var missing []string
	for _, name := range []string{"toxiproxy-server", "prometheus"} {
		p, err := exec.LookPath(name)
		if err != nil {
			missing = append(missing, fmt.Sprintf("%s is not on PATH; install it: %s", name, install[name]))
			continue
		}
		bins[name] = p
	}
	if len(missing) > 0 {
		return errors.New(strings.Join(missing, "\n"))
	}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "oncall-chaosbed-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var children []*child
	defer func() {
		for _, c := range children {
			c.stop()
		}
	}()

	toxAddr, err := freeAddr()
	if err != nil {
		return err
	}
	host, port, _ := strings.Cut(toxAddr, ":")
	tox, err := startChild(ctx, dir, "toxiproxy", "http://"+toxAddr+"/version", bins["toxiproxy-server"], "-host", host, "-port", port)
	if err != nil {
		return err
	}
	children = append(children, tox)
	api := chaosbed.Toxiproxy{API: "http://" + toxAddr, HTTP: &http.Client{Timeout: 10 * time.Second}}

	bed, err := chaosbed.Start(ctx, chaosbed.Options{Rate: rate, Timeout: timeout,
		Route: func(ctx context.Context, ledger string) (string, error) {
			listen, err := freeAddr()
			if err != nil {
				return "", err
			}
			return api.CreateProxy(ctx, chaosbed.Ledger, listen, ledger)
		}})
	if err != nil {
		return err
	}
	defer bed.Close()

	promAddr, err := freeAddr()
	if err != nil {
		return err
	}
	promCfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(promCfg, []byte(prometheusConfig(bed.MetricsAddr)), 0o644); err != nil {
		return err
	}
	prom, err := startChild(ctx, dir, "prometheus", "http://"+promAddr+"/-/ready", bins["prometheus"],
		"--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(dir, "prometheus-data"), "--web.listen-address="+promAddr)
	if err != nil {
		return err
	}
	children = append(children, prom)

	experiments := filepath.Join(dir, "experiments")
	copied, err := copyExperiments(expDir, experiments, api.API)
	if err != nil {
		return err
	}
	config := filepath.Join(dir, "oncall.yaml")
	if err := os.WriteFile(config, []byte(oncallConfig("http://"+promAddr, experiments, filepath.Join(dir, "audit.jsonl"))), 0o644); err != nil {
		return err
	}

	fmt.Fprintf(out, `chaos test bed running in %s
  orders     %s   (calls ledger through Toxiproxy's proxy %s, timeout %s, %g requests/s)
  ledger     %s
  metrics    %s
  toxiproxy  %s   (proxy %q; GET %s/proxies/%s/toxics lists the toxics in place)
  prometheus http://%s   (scrapes the bed every second)
  experiments %s (%s)

Run the shipped latency experiment (its error guard trips and it rolls back):
  oncall --config %s chaos run %s

or watch it in the cockpit (C opens the chaos view):
  oncall --config %s

Interrupt (Ctrl-C) to stop the bed and its servers.
`, dir, bed.OrdersURL, bed.LedgerURL, timeout, rate, "http://"+bed.LedgerAddr, bed.MetricsURL,
		api.API, chaosbed.Ledger, api.API, chaosbed.Ledger, promAddr, experiments, strings.Join(copied, ", "),
		config, filepath.Join(experiments, "toxiproxy-latency.yaml"), config)

	select {
	case <-ctx.Done():
		fmt.Fprintln(out, "stopping the bed")
		return nil
	case <-tox.done:
		return fmt.Errorf("toxiproxy-server exited: %v (its log: %s)", tox.err, tox.log)
	case <-prom.done:
		return fmt.Errorf("prometheus exited: %v (its log: %s)", prom.err, prom.log)
	}
}

// prometheusConfig scrapes the bed every second and evaluates every
// second, so a guard sees a fault within a couple of seconds.
func prometheusConfig(target string) string {
	return fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: chaosbed
    static_configs: [{targets: [%q]}]
`, target)
}

// oncallConfig reads the bed's Prometheus with the otel-http RED
// convention under the bed's service label, keeps its audit log with the
// bed, and finds the copied experiments.
func oncallConfig(prometheus, experiments, audit string) string {
	return fmt.Sprintf(`# written by chaosbed for its test bed
datasources:
  prometheus:
    url: %s
conventions:
  service_label:
    prometheus: service
  red:
    preset: otel-http
chaos:
  experiments: %s
remediation:
  audit_log: %s
`, prometheus, experiments, audit)
}

// copyExperiments copies the Toxiproxy experiments of src into dst with
// the default Toxiproxy API address replaced by this bed's.
func copyExperiments(src, dst, api string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(src, "toxiproxy-*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no toxiproxy-*.yaml experiments in %s: run from the repository's root, or pass --experiments", src)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return nil, err
	}
	var names []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		b = []byte(strings.ReplaceAll(string(b), chaosbed.DefaultToxiproxyAPI, api))
		if err := os.WriteFile(filepath.Join(dst, filepath.Base(f)), b, 0o644); err != nil {
			return nil, err
		}
		names = append(names, filepath.Base(f))
	}
	return names, nil
}

// child is a server process the bed started.
type child struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when it has exited, with err set
	err  error
}

// startChild runs bin with its output in dir/name.log and waits until
// readyURL answers 200.
func startChild(ctx context.Context, dir, name, readyURL, bin string, args ...string) (*child, error) {
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	c := &child{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		logFile.Close()
		close(c.done)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(readyURL)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c, nil
			}
		}
		select {
		case <-c.done:
			return nil, fmt.Errorf("%s exited before it was ready: %v (its log: %s)", name, c.err, logPath)
		case <-ctx.Done():
			c.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.stop()
			return nil, fmt.Errorf("%s did not answer at %s within 30s (its log: %s)", name, readyURL, logPath)
		}
	}
}

// stop asks the child to end, and kills it if it has not within 10 s.
func (c *child) stop() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// freeAddr is a loopback address with a port nothing listens on.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
