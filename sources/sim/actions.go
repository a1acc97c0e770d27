package sim

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	world "github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/sources"
)

// Act carries out an operator action on the simulated fleet: scale
// (replicas), restart, resize-pool (size, per replica), rollback,
// warm-cache and set-call (retries, timeout). Replicas and size may be
// relative to the current value: "+50%", "-1", "x2".
func (b *Backend) Act(_ context.Context, a sources.Action) (sources.Change, error) {
	act := world.Action{Kind: a.Kind, Service: a.Service, Target: a.Target}
	for k, v := range a.Params {
		var err error
		switch k {
		case "replicas":
			act.Replicas, err = b.number(v, func() (int, error) { return b.f.Replicas(a.Service) })
		case "size":
			act.Size, err = b.number(v, func() (int, error) { return b.f.PoolSize(a.Service, a.Target) })
		case "retries":
			var n int
			n, err = strconv.Atoi(strings.TrimSpace(v))
			act.Retries = &n
		case "timeout":
			act.Timeout, err = time.ParseDuration(strings.TrimSpace(v))
		default:
			err = fmt.Errorf("unknown parameter (replicas, size, retries, timeout)")
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
