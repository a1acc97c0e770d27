package slo

import (
	"context"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// resizedResources answers one pool whose size changed inside the span.
type resizedResources struct{ sat sources.Saturation }

func (r resizedResources) Saturation(context.Context, []string, sources.TimeRange, time.Duration) ([]sources.Saturation, error) {
	return []sources.Saturation{r.sat}, nil
}

// TestSaturationForecastAgainstTheLimitNow: a pool grown from 20 to 40
// ten minutes ago, its use climbing half a connection a minute to 25,
// fills its 40 in about 26 minutes. Against the 20 it had when fullest
// (its Max) it would read as already full and not be forecast at all.
func TestSaturationForecastAgainstTheLimitNow(t *testing.T) {
	at := t0
	sat := sources.Saturation{Service: "api", Resource: "pool:db", Max: 20,
		Used: sources.Series{Query: "pool of api"}, Limit: sources.Series{Query: "pool size of api"}}
	for d := -saturationSpan; d <= 0; d += saturationStep {
		limit := 20.0
		if d >= -10*time.Minute {
			limit = 40
		}
		sat.Used.Samples = append(sat.Used.Samples, sources.Sample{T: at.Add(d), V: 25 + 0.5*d.Minutes()})
		sat.Limit.Samples = append(sat.Limit.Samples, sources.Sample{T: at.Add(d), V: limit})
	}
	fs, err := LoadSaturationForecasts(context.Background(), resizedResources{sat}, nil, at, time.Hour)
	if err != nil || len(fs) != 1 {
		t.Fatalf("%+v, %v; want one forecast", fs, err)
	}
	// 25 + 0.5/min reaches SaturatedShare of 40 after (40·share − 25)/0.5 minutes
	want := at.Add(time.Duration((40*SaturatedShare - 25) / 0.5 * float64(time.Minute)))
	if f := fs[0]; f.What != "api pool:db" || f.At.Before(want.Add(-time.Minute)) || f.At.After(want.Add(time.Minute)) || f.Query != "pool of api" {
		t.Errorf("forecast %s at %s (%s), want about %s", f.What, f.At.Format("15:04"), f.Query, want.Format("15:04"))
	}
}
