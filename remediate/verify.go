package remediate

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// verify reads the signal until it is below the bound or the time is up,
// by the data's clock (the simulator's, in the demo), with a cap on the
// wall clock for data that stopped moving.
func (x *Executor) verify(ctx context.Context, pa Planned, v *Verify) (string, string) {
	r := renderer{vars: pa.vars}
	svc, _ := r.render("verify.service", v.Service)
	if svc == "" {
		svc = pa.Target
	}
	sig := v.Signal
	if sig == "" {
		sig = SignalErrorRatio
	}
	within := time.Duration(v.Within)
	over := v.Over.or(defaultVerifyOver)
	deadline := x.Now().Add(within)
	wallCap := time.Now().Add(2*within + 30*time.Second)
	poll := x.Poll
	if poll <= 0 {
		poll = DefaultVerifyPoll
	}
	last := "no reading yet"
	for {
		if err := x.Wait(ctx, poll); err != nil {
			return fmt.Sprintf("interrupted: %v (last: %s)", err, last), ResultFailed
		}
		val, _, err := redValue(ctx, x.Sources.Metrics, svc, sig, x.Now(), over)
		if err != nil {
			last = err.Error()
		} else {
			last = fmt.Sprintf("%s of %s over %s is %s", strings.ReplaceAll(sig, "_", " "), svc, shortDuration(over), showSignal(sig, val))
			if val < float64(v.Below) {
				msg := last + ", below " + showSignal(sig, float64(v.Below))
				x.report(pa.Name, "verified: %s", msg)
				return msg, ResultResolved
			}
		}
		x.report(pa.Name, "verifying: %s (want below %s by %s)", last, showSignal(sig, float64(v.Below)), deadline.UTC().Format("15:04:05"))
		if !x.Now().Before(deadline) || time.Now().After(wallCap) {
			msg := fmt.Sprintf("not below %s within %s: %s", showSignal(sig, float64(v.Below)), shortDuration(within), last)
			x.report(pa.Name, "verification failed: %s", msg)
			return msg, ResultFailed
		}
	}
}

// SleepWait is Wait on the wall clock.
func SleepWait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
