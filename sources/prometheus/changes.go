package prometheus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/oncall-cockpit/oncall/sources"
)

var _ sources.Changes = (*Client)(nil)

// presetRead is what one change preset read: its changes, the services
// it found series for, or why it could not answer.
type presetRead struct {
	name     string
	changes  []sources.Change
	services map[string]bool
	err      error
	// late says the preset had not answered when the read stopped
	// waiting, a little before its context's deadline (answerBy)
	late bool
	// capped says a query answered more than maxSeriesPerPreset series
	// and only that many were read
	capped bool
}

// changeReader is one preset's reading over a range.
type changeReader func(ctx context.Context, rd changeRead) presetRead

// changeRead is one read of changes: the range, its step and the labels
// the preset reads the service from.
type changeRead struct {
	r      sources.TimeRange
	step   time.Duration
	labels []string
}

// span is the range and one step more, so that a range function at the
// range's end sees the reading of the first step.
func (rd changeRead) span() string { return promDuration(rd.r.End.Sub(rd.r.Start) + rd.step) }

// steps is how many steps the range query answers at most.
func (rd changeRead) steps() int { return int(rd.r.End.Sub(rd.r.Start)/rd.step) + 1 }

// index is the step a range query's sample was read at, or -1.
func (rd changeRead) index(t time.Time) int {
	i := int(math.Round(float64(t.Sub(rd.r.Start)) / float64(rd.step)))
	if i < 0 || i >= rd.steps() {
		return -1
	}
	return i
}

func (rd changeRead) at(i int) time.Time { return rd.r.Start.Add(time.Duration(i) * rd.step) }

// unix is a metric's value that is a time, in seconds since the epoch,
// in the range's location as the steps are.
func (rd changeRead) unix(seconds float64) time.Time {
	return time.Unix(0, int64(seconds*1e9)).In(rd.r.Start.Location())
}

// service is the first of the labels a series has, the workload's name
// for a pod or a ReplicaSet.
func (rd changeRead) service(l sources.Labels) string {
	for _, name := range rd.labels {
		if v := l[name]; v != "" {
			if name == "pod" || name == "replicaset" {
				return workloadName(v)
			}
			return v
		}
	}
	return ""
}

// workloadSuffixes are the generated suffixes of Kubernetes names, in
// order, each alternative capturing the workload: a Deployment's pod is
// <deployment>-<pod-template-hash>-<5 chars>, its ReplicaSet
// <deployment>-<hash>; a StatefulSet's pod is <name>-<ordinal>; a
// DaemonSet's or a Job's pod is <name>-<5 chars>. The first alternative
// that matches wins, in Go as in Prometheus's label_replace, so doctor's
// query counts the workloads that reading the changes names.
const workloadSuffixes = `(.+)-[bcdfghjklmnpqrstvwxz2456789]{6,10}-[bcdfghjklmnpqrstvwxz2456789]{5}` +
	`|(.+)-[bcdfghjklmnpqrstvwxz2456789]{6,10}|(.+)-[0-9]+|(.+)-[bcdfghjklmnpqrstvwxz2456789]{5}`

// workloadOf is workloadSuffixes anchored, as label_replace anchors it.
var workloadOf = regexp.MustCompile(`^(?:` + workloadSuffixes + `)$`)

// workloadName is the name of the workload owning a pod or a ReplicaSet.
func workloadName(name string) string {
	if m := workloadOf.FindStringSubmatch(name); m != nil {
		return strings.Join(m[1:], "") // one alternative matched; the others are empty
	}
	return name
}

// Changes reads deploys, rollbacks, restarts and scaling of every service
// over r from the presets and custom templates the conventions name, all
// at once, each change's time exact to sources.ChangeStep(r).
//
// What a preset found is never lost to another's failure: when any preset
// found series, the changes come back with an error wrapping
// sources.ErrPartial that names the presets that failed, did not answer
// a little before ctx's deadline (answerBy), or were cut at
// maxSeriesPerPreset; nil when none was. When none found any, the
// presets' errors come back joined, or, when each answered with no
// series, an error wrapping sources.ErrNotReported that names them: this
// stack does not report changes, which is a note, not missing evidence.
func (c *Client) Changes(ctx context.Context, r sources.TimeRange) ([]sources.Change, error) {
	began := time.Now()
	reads, err := c.readChanges(ctx, r)
	if err != nil {
		return nil, err
	}
	var groups [][]sources.Change
	var errs, notes []error
	var empty, late, capped []string
	found := false
	for _, p := range reads {
		switch {
		case p.late:
			late = append(late, p.name)
			errs = append(errs, fmt.Errorf("changes preset %s: %w", p.name, p.err))
		case p.err != nil:
			errs = append(errs, fmt.Errorf("changes preset %s: %w", p.name, p.err))
			notes = append(notes, fmt.Errorf("preset %s: %s", p.name, sources.Cause(p.err)))
		case len(p.services) == 0:
			empty = append(empty, p.name)
		default:
			found = true
		}
		if p.capped {
			capped = append(capped, p.name)
		}
		// folded per preset first: a flapping version's thousands of
		// changes would make the dedupe quadratic
		groups = append(groups, sources.FoldChanges(p.changes))
	}
	switch {
	case found:
		if len(late) > 0 {
			notes = append(notes, fmt.Errorf("presets %s did not answer within %s",
				strings.Join(late, ", "), time.Since(began).Round(100*time.Millisecond)))
		}
		if len(capped) > 0 {
			notes = append(notes, fmt.Errorf("presets %s answered more than %d series; the first %d were read",
				strings.Join(capped, ", "), maxSeriesPerPreset, maxSeriesPerPreset))
		}
		// a deploy read both from build_info and from a new ReplicaSet is
		// one deploy, told by the first preset that read it
		return sources.DedupeChanges(groups, sources.ChangeStep(r)), sources.Partial(notes...)
	case len(errs) > 0:
		return nil, errors.Join(errs...)
	case len(empty) == 0:
		return nil, fmt.Errorf("prometheus: conventions.changes names no presets and no custom changes: %w", sources.ErrNotReported)
	}
	return nil, fmt.Errorf("prometheus: no series for the change presets %s: %w", strings.Join(empty, ", "), sources.ErrNotReported)
}

// readChanges runs every preset and custom change the conventions name at
// once, and returns their reads in the conventions' order.
func (c *Client) readChanges(ctx context.Context, r sources.TimeRange) ([]presetRead, error) {
	readers, err := c.conv.CompileChanges()
	if err != nil {
		return nil, fmt.Errorf("prometheus conventions: %w", err)
	}
	cut, cancel := answerBy(ctx)
	defer cancel()
	builtin := map[string]changeReader{
		sources.PresetBuildInfo:      c.buildInfoChanges,
		sources.PresetTargetInfo:     c.targetInfoChanges,
		sources.PresetKubeDeploy:     c.kubeDeployChanges,
		sources.PresetProcessRestart: c.processRestarts,
		sources.PresetKubeRestart:    c.kubeRestarts,
		sources.PresetKubeScale:      c.kubeScaling,
	}
	step := sources.ChangeStep(r)
	type job struct {
		name   string
		read   changeReader
		labels []string
	}
	var jobs []job
	for _, p := range readers.Presets {
		jobs = append(jobs, job{p, builtin[p], readers.ServiceLabels(p)})
	}
	for _, q := range readers.Custom {
		jobs = append(jobs, job{q.Name, c.customChanges(q), []string{q.ServiceLabel}})
	}
	answers := make(chan presetAnswer, len(jobs)) // buffered: a late preset's answer is dropped, not blocked on
	for i, j := range jobs {
		go func() { answers <- presetAnswer{i, j.read(cut, changeRead{r: r, step: step, labels: j.labels})} }()
	}
	return collectReads(cut, len(jobs), answers, func(i int) string { return jobs[i].name }), nil
}

// presetAnswer is the read of the i-th preset.
type presetAnswer struct {
	i int
	p presetRead
}

// collectReads takes n presets' answers until all arrived or cut is done,
// in order; a preset that had not answered by then, or that failed once
// cut was done, is late.
func collectReads(cut context.Context, n int, answers <-chan presetAnswer, name func(int) string) []presetRead {
	out := make([]presetRead, n)
	got := make([]bool, n)
wait:
	for range n {
		select {
		case a := <-answers:
			out[a.i], got[a.i] = a.p, true
			if a.p.err != nil && cut.Err() != nil {
				out[a.i].late = true
			}
		case <-cut.Done():
			break wait
		}
	}
	for i := range out {
		if !got[i] {
			out[i] = presetRead{name: name(i), err: cut.Err(), late: true}
		}
	}
	return out
}

// answerMargin is how long before its context's deadline a read of every
// preset stops waiting and returns what arrived: Gather keeps a part only
// when it comes back before its deadline, and one slow preset must not
// cost the others' answers. Half a second hands them over on a busy
// machine; a short deadline gives up a quarter of what is left instead.
const answerMargin = 500 * time.Millisecond

// answerBy is ctx ending answerMargin before its deadline (or a quarter
// of the time left, when that is less), or ctx itself with no deadline.
func answerBy(ctx context.Context) (context.Context, context.CancelFunc) {
	d, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, d.Add(-min(answerMargin, time.Until(d)/4)))
}

// source is the Source of a preset's changes.
func source(preset string) string { return backend + ": " + preset }

func (c *Client) buildInfoChanges(ctx context.Context, rd changeRead) presetRead {
	q := `{__name__=~".+_build_info", version!=""}`
	return c.versionChanges(ctx, rd, sources.PresetBuildInfo, q, "version", "version", sources.ChangeDeploy)
}

func (c *Client) targetInfoChanges(ctx context.Context, rd changeRead) presetRead {
	q := `target_info{service_version!=""}`
	return c.versionChanges(ctx, rd, sources.PresetTargetInfo, q, "service_version", "version", sources.ChangeDeploy)
}

func (c *Client) customChanges(q sources.CustomChangeQuery) changeReader {
	return func(ctx context.Context, rd changeRead) presetRead {
		return c.versionChanges(ctx, rd, q.Name, q.Render(promDuration(rd.step)), q.VersionLabel, q.VersionLabel, q.Kind)
	}
}

// versionChanges reads a new value of versionLabel in a service as a
// change of kind, told as "<what> 1.4.2 → 1.4.3", at the step its first
// instance showed it: a rolling deploy is one change. A return to a
// version seen earlier in the range is a rollback, but for the version a
// rollback undid, which is deployed again; a version coming back after a
// gap in the readings is no change at all.
func (c *Client) versionChanges(ctx context.Context, rd changeRead, preset, q, versionLabel, what string, kind sources.ChangeKind) presetRead {
	out := presetRead{name: preset, services: map[string]bool{}}
	series, capped, err := c.rangeCapped(ctx, q, rd)
	out.capped = capped
	if err != nil {
		out.err = err
		return out
	}
	// a track is one service's versions in one metric: a service's own
	// build_info and its Go runtime's each have their own
	type track struct {
		service string
		present map[string][]bool // version → step → read
		last    map[string]int    // version → instances at the last step
		total   int               // instances at the last step
	}
	tracks := map[string]*track{}
	var order []string
	n := rd.steps()
	for _, s := range series {
		svc, v := rd.service(s.Labels), s.Labels[versionLabel]
		if svc == "" || v == "" {
			continue
		}
		out.services[svc] = true
		key := svc + "\x00" + s.Labels["__name__"]
		t := tracks[key]
		if t == nil {
			t = &track{service: svc, present: map[string][]bool{}, last: map[string]int{}}
			tracks[key] = t
			order = append(order, key)
		}
		if t.present[v] == nil {
			t.present[v] = make([]bool, n)
		}
		for _, p := range s.Samples {
			if i := rd.index(p.T); i >= 0 {
				t.present[v][i] = true
				if i == n-1 {
					t.last[v]++
					t.total++
				}
			}
		}
	}
	slices.Sort(order)
	for _, key := range order {
		t := tracks[key]
		versions := slices.Sorted(maps.Keys(t.present))
		first := map[string]int{} // version → the step it was first read at
		for _, v := range versions {
			first[v] = slices.Index(t.present[v], true)
		}
		var current []string // the versions read at the last step that read any
		// undid: a version that came as a rollback → the version it undid,
		// so that deploying that version again reads as a deploy
		undid := map[string]string{}
		for i := range n {
			var now []string
			for _, v := range versions {
				if t.present[v][i] {
					now = append(now, v)
				}
			}
			if len(now) == 0 {
				continue // a gap in the readings: what follows is compared with before it
			}
			for _, v := range now {
				if i == 0 || len(current) == 0 || slices.Contains(current, v) {
					continue // the range's start, a first reading, or no change
				}
				// from the latest of the versions it replaces
				from := slices.MaxFunc(current, func(a, b string) int { return cmp.Or(cmp.Compare(first[a], first[b]), strings.Compare(a, b)) })
				// a return to a version seen before is a rollback, unless it
				// undoes a rollback: 1.4 → 1.5-bad → 1.4 → 1.5-bad deploys
				// the bad version again, it does not roll anything back
				k := kind
				if kind == sources.ChangeDeploy && slices.Contains(t.present[v][:i], true) && undid[from] != v {
					k = sources.ChangeRollback
					undid[v] = from
				}
				detail := fmt.Sprintf("%s %s → %s", what, sources.CapText(from, sources.MaxVersionText), sources.CapText(v, sources.MaxVersionText))
				if t.total > 1 && t.last[v] > 0 {
					detail += fmt.Sprintf(" (%d of %d instances)", t.last[v], t.total)
				}
				out.changes = append(out.changes, sources.Change{T: rd.at(i), Service: t.service, Kind: k,
					Version: sources.CapText(v, sources.MaxVersionText), Detail: detail, Source: source(preset)})
			}
			current = now
		}
	}
	return out
}

// moves calls moved for each reading of a series that differs from the
// reading before it, with the step it was read at.
func (rd changeRead) moves(s sources.Series, moved func(i int, from, to float64)) {
	for j := 1; j < len(s.Samples); j++ {
		if from, to := s.Samples[j-1].V, s.Samples[j].V; from != to {
			if i := rd.index(s.Samples[j].T); i > 0 {
				moved(i, from, to)
			}
		}
	}
}

// nearStep says whether any of steps is i or next to it: two metrics
// read from one event may be scraped on either side of a step.
func nearStep(steps []int, i int) bool {
	return slices.ContainsFunc(steps, func(j int) bool { return j >= i-1 && j <= i+1 })
}

// movedOnly is the series of metric that moved in the range: a fleet's
// thousands of containers answer only for the few that restarted.
func (rd changeRead) movedOnly(metric string) string {
	return fmt.Sprintf("%s unless (changes(%s[%s] @ end()) == 0)", metric, metric, rd.span())
}

// servicesOf is a query for every series of metric in the range, one per
// label set of the preset's service labels: how many services a preset
// that reads only moved series found. A pod or ReplicaSet label is cut to
// its workload in the query, into a label of its own (workloadLabel; two
// pods of one workload would otherwise collide), so that a big cluster
// answers one series per workload, not one per pod; read the answers with
// groupedService.
func (rd changeRead) servicesOf(metric string) string {
	q := fmt.Sprintf("last_over_time(%s[%s])", metric, rd.span())
	by := slices.Clone(rd.labels)
	for i, l := range by {
		if l == "pod" || l == "replicaset" {
			// the last alternative keeps a name with no generated suffix
			q = fmt.Sprintf(`label_replace(%s, "%s", "$1$2$3$4$5", "%s", "%s|(.+)")`, q, workloadLabel(l), l, workloadSuffixes)
			by[i] = workloadLabel(l)
		}
	}
	return fmt.Sprintf("group by (%s) (%s)", strings.Join(by, ", "), q)
}

// workloadLabel is the label servicesOf writes a pod's or a ReplicaSet's
// workload into.
func workloadLabel(l string) string { return "oncall_" + l + "_workload" }

// groupedService is the service of a servicesOf answer: the first of the
// labels it has, already cut to its workload.
func (rd changeRead) groupedService(l sources.Labels) string {
	for _, name := range rd.labels {
		if name == "pod" || name == "replicaset" {
			name = workloadLabel(name)
		}
		if v := l[name]; v != "" {
			return v
		}
	}
	return ""
}

// maxSeriesPerPreset bounds the series one change query reads: a fleet
// of five hundred services with ten instances or versions each stays
// under it, and beyond it the answer is a label gone wild (a version per
// scrape, a pod per request) whose reading costs hundreds of megabytes and
// seconds and tells no more. Servers that know the limit parameter
// (Prometheus 3) cut the answer themselves.
const maxSeriesPerPreset = 5000

// rangeCapped runs a range query over rd and reads at most
// maxSeriesPerPreset of its series, saying whether it answered more.
func (c *Client) rangeCapped(ctx context.Context, q string, rd changeRead) ([]sources.Series, bool, error) {
	v, _, _, err := c.api.QueryRange(ctx, q, v1.Range{Start: rd.r.Start, End: rd.r.End, Step: rd.step}, v1.WithLimit(maxSeriesPerPreset+1))
	if err != nil {
		return nil, false, c.fail("query_range "+q, err)
	}
	series := toSeries(v, q)
	if len(series) > maxSeriesPerPreset {
		return series[:maxSeriesPerPreset], true, nil
	}
	return series, false, nil
}

// queries runs PromQL queries at once, a range query each (capped at
// maxSeriesPerPreset) unless instant says it is an instant query at the
// range's end, and returns their answers in order, whether any was
// capped, or the first error (one query's cause, not a server's failure
// said once per query).
func (c *Client) queries(ctx context.Context, rd changeRead, qs []string, instant []bool) ([][]sources.Series, bool, error) {
	out := make([][]sources.Series, len(qs))
	capped := make([]bool, len(qs))
	errs := make([]error, len(qs))
	var wg sync.WaitGroup
	for i, q := range qs {
		wg.Go(func() {
			if instant != nil && instant[i] {
				out[i], errs[i] = c.Query(ctx, q, rd.r.End)
			} else {
				out[i], capped[i], errs[i] = c.rangeCapped(ctx, q, rd)
			}
		})
	}
	wg.Wait()
	return out, slices.Contains(capped, true), cmp.Or(errs...)
}

// kubeDeployChanges reads a ReplicaSet's creation as a deploy, at its
// creation time, and a deployment's generation rising with no new
// ReplicaSet and no change of replicas as a change of its spec (a
// rollback to an earlier template reuses its ReplicaSet).
func (c *Client) kubeDeployChanges(ctx context.Context, rd changeRead) presetRead {
	out := presetRead{name: sources.PresetKubeDeploy, services: map[string]bool{}}
	created := fmt.Sprintf("last_over_time(kube_replicaset_created[%s])", rd.span())
	generation := "kube_deployment_metadata_generation or kube_deployment_status_observed_generation"
	res, capped, err := c.queries(ctx, rd, []string{created, generation, "kube_deployment_spec_replicas"}, []bool{true, false, false})
	out.capped = capped
	if err != nil {
		out.err = err
		return out
	}
	rsAt := map[string][]time.Time{}
	for _, s := range res[0] {
		svc := rd.service(s.Labels)
		if svc == "" || len(s.Samples) == 0 {
			continue
		}
		out.services[svc] = true
		at := rd.unix(s.Samples[0].V)
		if at.Before(rd.r.Start) || at.After(rd.r.End) {
			continue
		}
		rsAt[svc] = append(rsAt[svc], at)
		out.changes = append(out.changes, sources.Change{T: at, Service: svc, Kind: sources.ChangeDeploy,
			Detail: "new ReplicaSet " + s.Labels["replicaset"], Source: source(sources.PresetKubeDeploy)})
	}
	scaled := map[string][]int{}
	for _, s := range res[2] {
		svc := rd.service(s.Labels)
		rd.moves(s, func(i int, _, _ float64) { scaled[svc] = append(scaled[svc], i) })
	}
	for _, s := range res[1] {
		svc := rd.service(s.Labels)
		if svc == "" {
			continue
		}
		out.services[svc] = true
		rd.moves(s, func(i int, from, to float64) {
			at := rd.at(i)
			// A rollout bumps the generation and its controller creates the
			// ReplicaSet a moment later, at an exact creation time. The bump
			// is read at the first step after kube-state-metrics was scraped
			// following it: up to a scrape (at most a step) and a step late,
			// hence two steps back; a step forward for a controller that
			// created the ReplicaSet after that scrape.
			near := func(o time.Time) bool { return o.After(at.Add(-2*rd.step)) && !o.After(at.Add(rd.step)) }
			if to < from || slices.ContainsFunc(rsAt[svc], near) ||
				nearStep(scaled[svc], i) {
				return // a recreated deployment, its new ReplicaSet, or a scale
			}
			out.changes = append(out.changes, sources.Change{T: at, Service: svc, Kind: sources.ChangeConfig,
				Detail: fmt.Sprintf("deployment generation %g → %g with no new ReplicaSet (a rollback to an earlier template, or a spec edit)", from, to),
				Source: source(sources.PresetKubeDeploy)})
		})
	}
	return out
}

// startSkew is how far before the reading before it a new start time may
// say the process started: a scrape's timestamp and the process's clock
// disagree by a scrape interval at most. A start time further back (or an
// absurd one, in 1970) is no restart between those readings.
const startSkew = 2 * time.Minute

// processRestarts reads process_start_time_seconds moving in a series: a
// process restarted in place, at the time its new value says, which must
// lie between the reading before and the step of the one that shows it
// (give or take startSkew, and clamped to them); a start time far before
// is no restart in the range. A new instance (a new pod) is a deploy's or
// a scale's, not a restart.
func (c *Client) processRestarts(ctx context.Context, rd changeRead) presetRead {
	const metric = "process_start_time_seconds"
	out := presetRead{name: sources.PresetProcessRestart, services: map[string]bool{}}
	res, capped, err := c.queries(ctx, rd, []string{rd.movedOnly(metric), rd.servicesOf(metric)}, []bool{false, true})
	out.capped = capped
	if err != nil {
		out.err = err
		return out
	}
	for _, s := range res[1] {
		if svc := rd.groupedService(s.Labels); svc != "" {
			out.services[svc] = true
		}
	}
	type key struct {
		service string
		step    int
	}
	restarts := map[key][]time.Time{}
	for _, s := range res[0] {
		svc := rd.service(s.Labels)
		if svc == "" {
			continue
		}
		for j := 1; j < len(s.Samples); j++ {
			prev, cur := s.Samples[j-1], s.Samples[j]
			i := rd.index(cur.T)
			if prev.V == cur.V || i <= 0 {
				continue
			}
			at := rd.unix(cur.V)
			switch {
			case at.After(rd.at(i)):
				at = rd.at(i) // a clock ahead: the step is the best time known
			case at.Before(prev.T.Add(-startSkew)):
				continue // started before the reading before it: no restart between them
			case !at.After(prev.T):
				at = prev.T.Add(time.Second) // a clock a little behind: just after the reading before
			}
			restarts[key{svc, i}] = append(restarts[key{svc, i}], at)
		}
	}
	for k, ats := range restarts {
		detail := "process restarted"
		if len(ats) > 1 {
			detail = fmt.Sprintf("%d processes restarted", len(ats))
		}
		out.changes = append(out.changes, sources.Change{T: slices.MinFunc(ats, time.Time.Compare), Service: k.service,
			Kind: sources.ChangeRestart, Detail: detail, Source: source(sources.PresetProcessRestart)})
	}
	return out
}

// maxRestartsPerStep bounds the restarts a counter may rise by between
// two steps: kubelet backs a crashing container off for up to five
// minutes, so even thousands of restarts in a step are a counter gone
// wrong (or an attack), and its jump is no count to print.
const maxRestartsPerStep = 10000

// kubeRestarts reads a container's restarts rising, and says OOMKilled
// when its last termination was for memory.
func (c *Client) kubeRestarts(ctx context.Context, rd changeRead) presetRead {
	const metric = "kube_pod_container_status_restarts_total"
	out := presetRead{name: sources.PresetKubeRestart, services: map[string]bool{}}
	oom := `kube_pod_container_status_last_terminated_reason{reason="OOMKilled"} == 1`
	res, capped, err := c.queries(ctx, rd, []string{rd.movedOnly(metric), rd.servicesOf(metric), oom}, []bool{false, true, false})
	out.capped = capped
	if err != nil {
		out.err = err
		return out
	}
	for _, s := range res[1] {
		if svc := rd.groupedService(s.Labels); svc != "" {
			out.services[svc] = true
		}
	}
	container := func(l sources.Labels) string { return l["namespace"] + "\x00" + l["pod"] + "\x00" + l["container"] }
	oomAt := map[string][]int{}
	for _, s := range res[2] {
		for _, p := range s.Samples {
			oomAt[container(s.Labels)] = append(oomAt[container(s.Labels)], rd.index(p.T))
		}
	}
	type key struct {
		service string
		step    int
	}
	type count struct{ restarts, oom int }
	counts := map[key]*count{}
	for _, s := range res[0] {
		svc := rd.service(s.Labels)
		if svc == "" {
			continue
		}
		rd.moves(s, func(i int, from, to float64) {
			if to < from {
				return // the counter of a recreated pod
			}
			if to-from > maxRestartsPerStep {
				return // no container restarts this often: a counter gone wrong
			}
			k := key{svc, i}
			if counts[k] == nil {
				counts[k] = &count{}
			}
			counts[k].restarts += int(to - from)
			// the reason is read at the same scrape or the next one; one
			// read only before it was an earlier termination's
			if slices.ContainsFunc(oomAt[container(s.Labels)], func(j int) bool { return j == i || j == i+1 }) {
				counts[k].oom++
			}
		})
	}
	for k, n := range counts {
		var detail string
		switch {
		case n.restarts == 1 && n.oom > 0:
			detail = "container restarted: OOMKilled"
		case n.restarts == 1:
			detail = "container restarted"
		case n.oom > 0:
			detail = fmt.Sprintf("%d container restarts, %d OOMKilled", n.restarts, n.oom)
		default:
			detail = fmt.Sprintf("%d container restarts", n.restarts)
		}
		out.changes = append(out.changes, sources.Change{T: rd.at(k.step), Service: k.service,
			Kind: sources.ChangeRestart, Detail: detail, Source: source(sources.PresetKubeRestart)})
	}
	return out
}

// maxReplicas bounds a replica count worth reading: Kubernetes caps a
// cluster at 150,000 pods, so a larger, negative or fractional count is
// an exporter's garbage, not a scale.
const maxReplicas = 150000

// sensibleReplicas says whether n could be a deployment's replicas.
func sensibleReplicas(n float64) bool { return n >= 0 && n <= maxReplicas && n == math.Trunc(n) }

// hpaFigures name the HPA metrics kubeScaling reads, as Detail says them.
var hpaFigures = map[string]string{
	"kube_horizontalpodautoscaler_spec_max_replicas":       "HPA max replicas",
	"kube_horizontalpodautoscaler_spec_min_replicas":       "HPA min replicas",
	"kube_horizontalpodautoscaler_status_desired_replicas": "HPA desired replicas",
}

// kubeScaling reads a deployment's replicas and its HPA's bounds and
// desired replicas changing. An HPA's desired replicas moving with the
// deployment's replicas is one scale, told by the deployment.
func (c *Client) kubeScaling(ctx context.Context, rd changeRead) presetRead {
	out := presetRead{name: sources.PresetKubeScale, services: map[string]bool{}}
	hpa := `{__name__=~"kube_horizontalpodautoscaler_(spec_max_replicas|spec_min_replicas|status_desired_replicas)"}`
	res, capped, err := c.queries(ctx, rd, []string{"kube_deployment_spec_replicas", hpa}, nil)
	out.capped = capped
	if err != nil {
		out.err = err
		return out
	}
	scaled := map[string][]int{}
	for _, s := range res[0] {
		svc := rd.service(s.Labels)
		if svc == "" {
			continue
		}
		out.services[svc] = true
		rd.moves(s, func(i int, from, to float64) {
			if !sensibleReplicas(from) || !sensibleReplicas(to) {
				return // a reading no deployment has
			}
			scaled[svc] = append(scaled[svc], i)
			out.changes = append(out.changes, sources.Change{T: rd.at(i), Service: svc, Kind: sources.ChangeScale,
				Detail: fmt.Sprintf("replicas %g → %g", from, to), Source: source(sources.PresetKubeScale)})
		})
	}
	for _, s := range res[1] {
		svc, figure := rd.service(s.Labels), hpaFigures[s.Labels["__name__"]]
		if svc == "" || figure == "" {
			continue
		}
		out.services[svc] = true
		rd.moves(s, func(i int, from, to float64) {
			if !sensibleReplicas(from) || !sensibleReplicas(to) {
				return
			}
			if strings.HasSuffix(s.Labels["__name__"], "desired_replicas") &&
				nearStep(scaled[svc], i) {
				return
			}
			out.changes = append(out.changes, sources.Change{T: rd.at(i), Service: svc, Kind: sources.ChangeScale,
				Detail: fmt.Sprintf("%s %g → %g", figure, from, to), Source: source(sources.PresetKubeScale)})
		})
	}
	return out
}

// changesWindow is how far back doctor looks for the change presets'
// series: an hour holds a scrape of every target.
const changesWindow = time.Hour

// changesCheck is the doctor line saying which change presets found
// series, for how many services, and which found none or failed.
func (c *Client) changesCheck(ctx context.Context, now time.Time) sources.Check {
	reads, err := c.readChanges(ctx, sources.TimeRange{Start: now.Add(-changesWindow), End: now})
	if err != nil {
		return sources.Check{Name: "changes", Status: sources.CheckFail, Detail: err.Error(), Err: err}
	}
	results := make([]presetResult, len(reads))
	for i, p := range reads {
		results[i] = presetResult{name: p.name, services: len(p.services), err: p.err}
	}
	return presetCheck("changes", results, "no deploys or restarts", "conventions.changes")
}
