package sim

import (
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// noiseSource is one service with short, unrelated error bursts: the
// background a real fleet always has, which correlation must not blame.
type noiseSource struct {
	s          *service
	next, till time.Time
	level      float64
}

// noisy are the services of the default topology that misbehave a little
// now and then. None has an SLO, so none should page.
var noisy = []string{"reviews-api", "recommendations", "email-service"}

// harmless are deploys during the warm-up that change nothing: a suspect
// that correlation must clear.
var harmless = []struct {
	after            time.Duration
	service, version string
}{{8 * time.Minute, "reviews-api", "v1.4.2"}, {19 * time.Minute, "search", "v5.2.1"}}

func backgroundNoise(m *model) []noiseSource {
	var out []noiseSource
	for i, name := range noisy {
		if s, ok := m.byName[name]; ok {
			out = append(out, noiseSource{s: s, next: m.now.Add(time.Duration(5+7*i) * time.Minute)})
		}
	}
	return out
}

func (f *Fleet) stepNoise() {
	now := f.m.now
	for i := range f.noise {
		n := &f.noise[i]
		switch {
		case !n.till.IsZero() && !now.Before(n.till):
			n.s.noiseBoost, n.till = 0, time.Time{}
			n.next = now.Add(time.Duration(15+f.m.rng.IntN(30)) * time.Minute)
		case n.till.IsZero() && !now.Before(n.next):
			n.level = 0.01 + 0.03*f.m.rng.Float64()
			n.s.noiseBoost = n.level
			n.till = now.Add(time.Duration(60+f.m.rng.IntN(120)) * time.Second)
		}
	}
	for _, h := range harmless {
		if s, ok := f.m.byName[h.service]; ok && now.Equal(f.start.Add(h.after)) {
			s.prevVersion, s.version = s.version, h.version
			f.change(h.service, sources.ChangeDeploy, h.version, "rolling update (image "+h.service+":"+h.version+")")
			f.log(h.service, lvlInfo, tplDeploy, -1, 0, 0, nil)
		}
	}
}
