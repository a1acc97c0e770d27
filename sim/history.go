package sim

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// A real Prometheus holds weeks of history; the metric rings hold
// Retention. So that an SLO's 28-day budget means on the simulator what
// it means on a real stack, each SLO service also keeps its requests and
// errors per HistoryStep for HistoryLength before the fleet's start, and
// on from there for as long as the fleet runs. The weeks before the
// start are synthesised from the first HistoryStep of the fleet's own
// traffic: the same rates under the daily cycle, with a few past
// incidents that spent part of the budget.
const (
	HistoryStep   = 5 * time.Minute
	HistoryLength = 28 * 24 * time.Hour
)

// history is the coarse record of one SLO service.
type history struct {
	svc      int
	req, err []float64 // events per HistoryStep, from Fleet.histStart
	accReq   float64   // events of the step being recorded
	accErr   float64
}

// histStart is when every history begins.
func (f *Fleet) histStart() time.Time { return f.start.Add(-HistoryLength) }

// recordHistory accumulates the tick's events of every SLO service and,
// at each HistoryStep boundary, closes a step: the first one also
// synthesises the weeks before the start from it.
func (f *Fleet) recordHistory(req, errs func(svc int) float64) {
	if f.hist == nil {
		for _, o := range f.m.topo.SLOs {
			s := f.m.byName[o.Service]
			if _, dup := f.hist[s.spec.Name]; dup {
				continue
			}
			if f.hist == nil {
				f.hist = map[string]*history{}
			}
			f.hist[s.spec.Name] = &history{svc: s.idx}
		}
		if f.hist == nil {
			f.hist = map[string]*history{} // no SLOs: nothing to keep
		}
	}
	for _, h := range f.hist {
		h.accReq += req(h.svc)
		h.accErr += errs(h.svc)
	}
	now := f.m.now
	if now.Sub(f.start)%HistoryStep != 0 {
		return
	}
	for name, h := range f.hist {
		if h.req == nil {
			f.synthesise(name, h)
		}
		h.req, h.err = append(h.req, h.accReq), append(h.err, h.accErr)
		h.accReq, h.accErr = 0, 0
	}
}

// synthesise fills the weeks before the start from the first step's
// accumulated traffic: its rate scaled by the daily cycle, Poisson noise,
// the service's own error rate, and one to three past incidents.
func (f *Fleet) synthesise(name string, h *history) {
	mid := f.start.Add(HistoryStep / 2)
	perStep := h.accReq / f.m.daily(mid)
	ratio := math.Max(f.m.services[h.svc].spec.ErrorRate, h.accErr/math.Max(1, h.accReq))
	hs := fnv.New64a()
	hs.Write([]byte(name))
	rng := rand.New(rand.NewPCG(f.seed, hs.Sum64()))
	var incidents []PastIncident
	for range 1 + rng.IntN(3) {
		day := time.Duration(1+rng.IntN(int(HistoryLength/(24*time.Hour))-2)) * 24 * time.Hour
		at := f.histStart().Add(day + time.Duration(rng.Int64N(int64(24*time.Hour)))).Truncate(HistoryStep)
		incidents = append(incidents, PastIncident{Service: name, At: at, Duration: time.Duration(2+rng.IntN(11)) * HistoryStep, ErrorRatio: 0.01 + 0.07*rng.Float64()})
	}
	n := int(HistoryLength / HistoryStep)
	h.req, h.err = make([]float64, 0, n+int(24*time.Hour/HistoryStep)), make([]float64, 0, n+int(24*time.Hour/HistoryStep))
	for i := range n {
		t := f.histStart().Add(time.Duration(i) * HistoryStep)
		req := poisson(rng, perStep*f.m.daily(t.Add(HistoryStep/2)))
		r := ratio
		for _, in := range incidents {
			if !t.Before(in.At) && t.Before(in.At.Add(in.Duration)) {
				r = in.ErrorRatio
			}
		}
		h.req = append(h.req, req)
		h.err = append(h.err, math.Min(req, poisson(rng, req*r)))
	}
	f.pastIncidents = append(f.pastIncidents, incidents...)
}

// SLIEvents counts a service's requests and failed requests in (from,
// to]: at Step resolution where the metric rings reach, and per
// HistoryStep before that, for an SLO service. since is the first time
// the service has data; ok is false for an unknown service.
func (f *Fleet) SLIEvents(name string, from, to time.Time) (bad, total float64, since time.Time, ok bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	s, ok := f.m.byName[name]
	if !ok {
		return 0, 0, time.Time{}, false
	}
	ringFrom, fine := f.ringStart()
	since = ringFrom
	if h := f.hist[name]; h != nil && len(h.req) > 0 && fine {
		since = f.histStart()
		// coarse steps that end before the rings begin
		for i := range h.req {
			st := f.histStart().Add(time.Duration(i) * HistoryStep)
			end := st.Add(HistoryStep)
			if !end.After(from) || end.After(to) || end.After(ringFrom) {
				continue
			}
			total += h.req[i]
			bad += h.err[i]
		}
	}
	if !fine {
		return 0, 0, time.Time{}, true
	}
	b := s.idx * nSvcSeries
	if ringFrom.After(from) {
		from = ringFrom
	}
	f.store.window(from.Add(time.Nanosecond), to, func(k int, t time.Time) {
		total += float64(f.store.svc[b+sReq].at(k)) * Step.Seconds()
		bad += float64(f.store.svc[b+sErr].at(k)) * Step.Seconds()
	})
	return bad, total, since, true
}

// ringStart is the end of the oldest step the rings hold, aligned down
// to a HistoryStep so that coarse and fine steps never overlap.
func (f *Fleet) ringStart() (time.Time, bool) {
	if f.store.n == 0 {
		return time.Time{}, false
	}
	oldest := f.store.times[(f.store.head-f.store.n+points)%points]
	first := oldest.Add(-Step)
	// round up to a HistoryStep boundary measured from the start
	off := first.Sub(f.start)
	if r := off % HistoryStep; r != 0 {
		first = first.Add(HistoryStep - r)
	}
	return first, true
}

// PastIncident is one of the synthesised incidents before the start.
type PastIncident struct {
	Service    string
	At         time.Time
	Duration   time.Duration
	ErrorRatio float64
}

// PastIncidents lists the incidents synthesised into the SLO services'
// history, for tests to grade the budget's account of them.
func (f *Fleet) PastIncidents() []PastIncident {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := append([]PastIncident(nil), f.pastIncidents...)
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// SLIHistory counts a service's requests and failed requests per step
// over (from, to]: step k covers (from+k·step, from+(k+1)·step] and is
// reported at its end. Before the rings, events come per HistoryStep,
// each counted in the step its end falls in. false for an unknown
// service.
func (f *Fleet) SLIHistory(name string, from, to time.Time, step time.Duration) (ends []time.Time, bad, total []float64, ok bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	s, ok := f.m.byName[name]
	if !ok || step <= 0 || !to.After(from) {
		return nil, nil, nil, ok
	}
	n := int((to.Sub(from) + step - 1) / step)
	ends, bad, total = make([]time.Time, n), make([]float64, n), make([]float64, n)
	for k := range n {
		ends[k] = from.Add(time.Duration(k+1) * step)
	}
	at := func(t time.Time) int {
		if !t.After(from) || t.After(to) {
			return -1
		}
		return min(n-1, int((t.Sub(from)-1)/step))
	}
	ringFrom, fine := f.ringStart()
	if !fine {
		return ends, bad, total, true
	}
	if h := f.hist[name]; h != nil {
		for i := range h.req {
			end := f.histStart().Add(time.Duration(i+1) * HistoryStep)
			if end.After(ringFrom) {
				break
			}
			if k := at(end); k >= 0 {
				total[k] += h.req[i]
				bad[k] += h.err[i]
			}
		}
	}
	b := s.idx * nSvcSeries
	f.store.window(ringFrom.Add(time.Nanosecond), to, func(j int, t time.Time) {
		if k := at(t); k >= 0 {
			total[k] += float64(f.store.svc[b+sReq].at(j)) * Step.Seconds()
			bad[k] += float64(f.store.svc[b+sErr].at(j)) * Step.Seconds()
		}
	})
	return ends, bad, total, true
}
