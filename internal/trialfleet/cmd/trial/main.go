// Command trial runs the independent trial fleet against a real Loki,
// Tempo and Prometheus and grades oncall's diagnosis on it:
//
//	go run ./internal/trialfleet/cmd/trial run   --ledger /tmp/trial-run/ledger.jsonl
//	go run ./internal/trialfleet/cmd/trial grade --ledger /tmp/trial-run/ledger.jsonl --oncall /tmp/trial-oncall
//
// See docs/trial-fleet.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/oncall-cockpit/oncall/internal/trialfleet"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "trial:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: trial run|grade [flags]")
	}
	switch args[0] {
	case "run":
		return runFleet(ctx, args[1:], stderr)
	case "grade":
		return grade(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown command %q (want run or grade)", args[0])
}

func runFleet(ctx context.Context, args []string, log io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	topoPath := fs.String("topology", "testdata/trialfleet/fleet.yaml", "fleet topology")
	ledgerPath := fs.String("ledger", "/tmp/trial-run/ledger.jsonl", "ledger to append cases to (JSON lines)")
	metricsAddr := fs.String("metrics-addr", "127.0.0.1:59464", "where /metrics listens (Prometheus scrapes it)")
	otlp := fs.String("otlp", "http://127.0.0.1:54318/v1/traces", "Tempo's OTLP HTTP traces endpoint")
	loki := fs.String("loki", "http://127.0.0.1:53100/loki/api/v1/push", "Loki's push endpoint")
	warmup := fs.Duration("warmup", 8*time.Minute, "healthy traffic before the first fault")
	dur := fs.Duration("fault", 3*time.Minute, "how long each fault lasts")
	gap := fs.Duration("gap", 4*time.Minute, "healthy time after each fault in the same app")
	tail := fs.Duration("tail", 30*time.Second, "traffic after the last fault ends (grading reads up to onset + 2m, inside the fault)")
	perClass := fs.Int("per-class", 5, "runs of each class")
	classList := fs.String("classes", "slow-db,bad-deploy,pool-shrink,worker-saturation,retry-storm,cpu-saturation", "fault classes, comma-separated (crash-loop is optional)")
	seed := fs.Uint64("seed", 21, "random seed of the model")
	if err := fs.Parse(args); err != nil {
		return err
	}
	topo, err := trialfleet.LoadTopology(*topoPath)
	if err != nil {
		return err
	}
	var classes []trialfleet.Class
	for _, c := range strings.Split(*classList, ",") {
		class := trialfleet.Class(strings.TrimSpace(c))
		if !slices.Contains(trialfleet.Classes, class) {
			return fmt.Errorf("--classes: unknown class %q (want some of %v)", class, trialfleet.Classes)
		}
		classes = append(classes, class)
	}
	start := time.Now()
	fleet := trialfleet.NewFleet(topo, start, *seed)
	plan := trialfleet.Plan(topo, start, *warmup, *dur, *gap, classes, *perClass)
	if len(plan) == 0 {
		return fmt.Errorf("empty plan: no classes")
	}
	for _, p := range plan {
		if p.Target == "" {
			return fmt.Errorf("%s: app %s names no target for %s", *topoPath, p.App, p.Class)
		}
	}
	if err := os.MkdirAll(filepath.Dir(*ledgerPath), 0o755); err != nil {
		return err
	}
	lf, err := os.OpenFile(*ledgerPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer lf.Close()
	write := trialfleet.LedgerWriter(lf)
	fleet.Schedule(plan, func(c trialfleet.Case) {
		if err := write(c); err != nil {
			fmt.Fprintln(log, err)
		}
		fmt.Fprintf(log, "%s case %s %s root=%s radius=%v\n", c.End.UTC().Format(time.TimeOnly), c.Class, c.App, c.Root, c.BlastRadius)
	})
	ln, err := net.Listen("tcp", *metricsAddr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: fleet.MetricsHandler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }() // Serve returns when Shutdown closes it
	defer srv.Shutdown(context.Background())
	until := plan[len(plan)-1].End.Add(*tail)
	fmt.Fprintf(log, "%s fleet up: %d faults, last ends %s, run ends %s; /metrics on %s\n", start.UTC().Format(time.TimeOnly),
		len(plan), plan[len(plan)-1].End.UTC().Format(time.TimeOnly), until.UTC().Format(time.TimeOnly), ln.Addr())
	for _, p := range plan {
		fmt.Fprintf(log, "  plan %s %-17s %-8s %s\n", p.Onset.UTC().Format(time.TimeOnly), p.Class, p.App, p.Target)
	}
	fleet.Start()
	app := map[string]string{}
	for _, a := range topo.Apps {
		for _, s := range a.Services {
			app[s.Name] = a.Name
		}
	}
	r := trialfleet.Runner{Fleet: fleet, Now: time.Now, Tick: 200 * time.Millisecond, Ship: time.Second, Log: log,
		Shipper: trialfleet.Shipper{Client: &http.Client{Timeout: 15 * time.Second}, OTLP: *otlp, Loki: *loki,
			App: func(s string) string { return app[s] }}}
	return r.Run(ctx, until)
}

func grade(ctx context.Context, args []string, stdout, log io.Writer) error {
	fs := flag.NewFlagSet("grade", flag.ContinueOnError)
	ledgerPath := fs.String("ledger", "/tmp/trial-run/ledger.jsonl", "the run's ledger")
	oncall := fs.String("oncall", "/tmp/trial-oncall", "the built oncall binary")
	config := fs.String("config", "testdata/trialfleet/oncall.yaml", "oncall's config for the fleet")
	after := fs.Duration("after", 2*time.Minute, "ask for the incident this long after each onset")
	window := fs.Duration("window", 15*time.Minute, "oncall's --window (its default), to tell which cases are isolated")
	out := fs.String("out", "", "write every verdict here as JSON")
	record := fs.String("record", "", "record each case's scoped run through cassette proxies into this directory, for CI to replay")
	if err := fs.Parse(args); err != nil {
		return err
	}
	lf, err := os.Open(*ledgerPath)
	if err != nil {
		return err
	}
	cases, err := trialfleet.ReadLedger(lf)
	lf.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", *ledgerPath, err)
	}
	g := trialfleet.Grader{Oncall: *oncall, Config: *config, After: *after, Window: *window, Record: *record}
	graded := g.Grade(ctx, cases, log)
	if *out != "" {
		b, err := json.MarshalIndent(graded, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, b, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "Scoped to the paged app's entry (--service), at onset + %s:\n\n%s\n", *after,
		trialfleet.MarkdownTable(trialfleet.Score(graded, func(g trialfleet.Graded) *trialfleet.Verdict { return &g.Scoped })))
	fmt.Fprintf(stdout, "Fleet-wide (no --service), every case, other apps' faults live:\n\n%s\n",
		trialfleet.MarkdownTable(trialfleet.Score(graded, func(g trialfleet.Graded) *trialfleet.Verdict { return &g.Fleet })))
	alone := trialfleet.Score(graded, func(g trialfleet.Graded) *trialfleet.Verdict {
		if !g.Isolated {
			return nil
		}
		return &g.Fleet
	})
	if len(alone) == 0 {
		fmt.Fprintf(stdout, "Fleet-wide, cases alone in their %s window: none.\n", *window)
		return nil
	}
	fmt.Fprintf(stdout, "Fleet-wide, cases alone in their %s window:\n\n%s", *window, trialfleet.MarkdownTable(alone))
	return nil
}
