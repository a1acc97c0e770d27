package sim

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	world "github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/sources"
)

// Act carries out an operator action on the simulated fleet: scale
// (replicas), restart, resize-pool (size, per replica), rollback,
// warm-cache and set-call (retries, timeout); and a chaos experiment's
// faults: inject-latency (latency, jitter, share), inject-errors (ratio),
// kill-replicas (replicas), limit-pool (size) and clear-faults. Scale's
// and resize-pool's counts may be relative to the current value: "+50%",
// "-1", "x2"; kill-replicas' and limit-pool's may be a share of it: "50%".
// Shares and ratios are 0..1 or percentages.
func (b *Backend) Act(_ context.Context, a sources.Action) (sources.Change, error) {
	act := world.Action{Kind: a.Kind, Service: a.Service, Target: a.Target}
	for k, v := range a.Params {
		var err error
		switch k {
		case "replicas":
			replicas := func() (int, error) { return b.f.Replicas(a.Service) }
			if a.Kind == world.ActKillReplicas {
				act.Replicas, err = portion(v, replicas)
			} else {
				act.Replicas, err = b.number(v, replicas)
			}
		case "size":
			size := func() (int, error) { return b.f.PoolSize(a.Service, a.Target) }
			if a.Kind == world.ActLimitPool {
				act.Size, err = portion(v, size)
			} else {
				act.Size, err = b.number(v, size)
			}
		case "latency":
			act.Latency, err = time.ParseDuration(strings.TrimSpace(v))
		case "jitter":
			act.Jitter, err = time.ParseDuration(strings.TrimSpace(v))
		case "share":
			// the fleet reads an unset share as every attempt, so 0 is refused here
			if act.Share, err = fraction(v); err == nil && act.Share == 0 {
				err = fmt.Errorf("a share of 0 injects nothing")
			}
		case "ratio":
			act.Ratio, err = fraction(v)
		case "retries":
			var n int
			n, err = strconv.Atoi(strings.TrimSpace(v))
			act.Retries = &n
		case "timeout":
			act.Timeout, err = time.ParseDuration(strings.TrimSpace(v))
		default:
			err = fmt.Errorf("unknown parameter (replicas, size, retries, timeout, latency, jitter, share, ratio)")
		}
		if err != nil {
			return sources.Change{}, fmt.Errorf("simulator %s %s: %s %q: %w", a.Kind, a.Service, k, v, err)
		}
	}
	return b.f.Apply(act)
}

// number reads an absolute or relative count against the current value.
func (b *Backend) number(v string, current func() (int, error)) (int, error) {
	if sources.IsAbsolute(v) {
		return sources.Relative(v, 0)
	}
	cur, err := current()
	if err != nil {
		return 0, err
	}
	return sources.Relative(v, cur)
}

// fraction reads a share: "0.5" or "50%".
func fraction(v string) (float64, error) {
	v = strings.TrimSpace(v)
	scale := 1.0
	if strings.HasSuffix(v, "%") {
		v, scale = strings.TrimSpace(strings.TrimSuffix(v, "%")), 0.01
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("want a share like 0.5 or 50%%")
	}
	if x = x * scale; x < 0 || x > 1 || math.IsNaN(x) {
		return 0, fmt.Errorf("a share must be 0..1 or 0%%..100%%")
	}
	return x, nil
}

// portion reads a count, or a share of the current count ("50%" of 10
// replicas is 5), at least one when the share is above zero.
func portion(v string, current func() (int, error)) (int, error) {
	if !strings.HasSuffix(strings.TrimSpace(v), "%") {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return 0, fmt.Errorf("want a count like 3 or a share like 50%%")
		}
		return n, nil
	}
	x, err := fraction(v)
	if err != nil {
		return 0, err
	}
	cur, err := current()
	if err != nil {
		return 0, err
	}
	n := int(math.Round(x * float64(cur)))
	if n == 0 && x > 0 {
		n = 1
	}
	return n, nil
}
