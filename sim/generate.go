package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/oncall-cockpit/oncall/internal/timeparse"
)

// The generated fleet copies the field report that set its size: 2,000
// services, under half of them with traffic, about two edges per service.
const (
	// activeAppShare is the share of generated apps that receive traffic:
	// the report's 937 of 2,000 services had any.
	activeAppShare = 0.47
	// appMedianRPS is the median entry rate of a generated app with
	// traffic; rates are log-normal around it (σ 1), so a few apps are busy
	// and most are small, as in a real fleet.
	appMedianRPS = 15
	// maxCrossCalls bounds how many APIs of other apps one API calls
	// (uniformly 0 to it): the shared internal services that make a fleet
	// a graph rather than a forest. With it the generated 2,000 have about
	// as many edges with traffic as the report's 4,158.
	maxCrossCalls = 16
	// maxCrossRate bounds the calls per request of one such call: low, so
	// that load does not multiply down the long chains the calls make.
	maxCrossRate = 0.1
	// generatedSLOShare is the share of active apps whose entry point has
	// an availability SLO.
	generatedSLOShare = 0.1
	// generatedObjective is their objective: a small app's few requests a
	// second, through three or four hops that each fail a little, would
	// spend a 99.9% budget on noise alone.
	generatedObjective = 0.995
)

// domains name the generated apps: the parts of a large company's
// platform beside the shop.
var domains = []string{
	"billing", "identity", "pricing", "shipping", "returns", "invoicing", "media", "ads", "analytics",
	"messaging", "support", "wishlist", "giftcard", "fulfillment", "warehouse", "vendor", "content",
	"flags", "audit", "compliance", "risk", "geo", "subscriptions", "coupons", "referrals", "surveys",
	"chat", "kyc", "payouts", "settlement", "routing", "dispatch", "catalog-sync", "reporting", "crm",
	"marketing", "experiments", "storefront", "booking", "rentals", "insurance", "tickets", "maps",
}

// apiRoles name an app's APIs and services after what they serve.
var apiRoles = []string{"api", "orders", "profile", "search", "sync", "export", "admin", "events", "rules", "reports", "quotes", "accounts"}

// GrowTopology returns base grown to n services with generated apps, the
// same for the same seed. base's services keep their names, calls and
// absolute traffic, and no generated service calls them, so every
// scenario of base plays out as it does on base alone: its truth holds.
// Each generated app is an entry point called by users (a gateway, or an
// API when the app is small), one to three APIs, sometimes a core service
// and a queue worker, and a database and a cache as uninstrumented peers.
// About half the apps get no traffic at all, as in a real fleet where
// many deployments are idle. n at or below base's size returns base.
func GrowTopology(base *Topology, n int, seed uint64) (*Topology, error) {
	if n > maxServices {
		return nil, fmt.Errorf("%d services: the simulator supports at most %d, because spans and log lines index services in 16 bits to stay compact", n, maxServices)
	}
	if n <= len(base.Services) {
		return base, nil
	}
	t := *base
	t.Name = fmt.Sprintf("%s-%d", base.Name, n)
	t.Services = append([]ServiceSpec(nil), base.Services...)
	t.SLOs = append([]SLOSpec(nil), base.SLOs...)
	taken := map[string]bool{}
	for _, s := range base.Services {
		taken[s.Name] = true
	}
	rng := rand.New(rand.NewPCG(seed, 0x6a09e667f3bcc908))
	g := generator{rng: rng, taken: taken}
	var apps []genApp
	for len(t.Services)+len(g.services) < n {
		apps = append(apps, g.app(len(apps), n-len(t.Services)-len(g.services)))
	}
	g.crossCalls(apps)

	// The base keeps its absolute entry rates: the fleet's rate grows by
	// the apps' and every share is rescaled to it.
	extra := 0.0
	for _, a := range apps {
		extra += a.rps
	}
	total := base.Traffic.RPS + extra
	t.Traffic.RPS = total
	for i := range t.Services {
		t.Services[i].Entry *= base.Traffic.RPS / total
	}
	for _, a := range apps {
		if a.rps > 0 {
			g.services[a.entry].Entry = a.rps / total
			if rng.Float64() < generatedSLOShare {
				t.SLOs = append(t.SLOs, SLOSpec{Name: a.name + "-availability", Service: g.services[a.entry].Name, Objective: generatedObjective})
			}
		}
	}
	t.Services = append(t.Services, g.services...)
	t.applyDefaults()
	if err := t.validate(t.Name+" (generated)", nil); err != nil {
		return nil, err
	}
	return &t, nil
}

// generator builds apps' services into one list.
type generator struct {
	rng      *rand.Rand
	taken    map[string]bool
	services []ServiceSpec
}

// genApp is one generated app: where its services are in the list.
type genApp struct {
	name  string
	entry int   // its entry point
	apis  []int // what other apps may call
	rps   float64
}

// app adds one app of at most room services (room > 0).
func (g *generator) app(k, room int) genApp {
	rng := g.rng
	name := g.unique(fmt.Sprintf("%s-%d", domains[rng.IntN(len(domains))], k+1))
	a := genApp{name: name}
	if rng.Float64() < activeAppShare {
		a.rps = appMedianRPS * math.Exp(rng.NormFloat64())
	}
	team := "team-" + name
	add := func(s ServiceSpec) int {
		s.Owner, s.Version = team, fmt.Sprintf("v%d.%d.%d", 1+rng.IntN(4), rng.IntN(20), rng.IntN(10))
		g.services = append(g.services, s)
		return len(g.services) - 1
	}
	ms := func(v float64) timeparse.Duration {
		return timeparse.Duration(time.Duration(v * float64(time.Millisecond)))
	}
	lat := func(p50 float64) Latency { return Latency{P50: ms(p50), P99: ms(p50 * (3 + 5*rng.Float64()))} }
	replicas := 2 + rng.IntN(4)

	// the plan, trimmed to the room left: an app of several APIs has a
	// gateway in front of them, an app of one is entered at its API
	nAPIs := 1 + rng.IntN(3)
	size := func() int {
		if nAPIs > 1 {
			return 1 + nAPIs
		}
		return 1
	}
	for size() > room {
		nAPIs--
	}
	withDB := room >= size()+1
	if withDB {
		room--
	}
	withCache := withDB && room >= size()+1 && rng.Float64() < 0.5
	if withCache {
		room--
	}
	withWorker := room >= size()+2 && rng.Float64() < 0.3
	if withWorker {
		room -= 2
	}
	withCore := room >= size()+1 && rng.Float64() < 0.3

	entry := ServiceSpec{Name: g.unique(name + "-gateway"), Tier: "edge", Kind: KindGateway, Replicas: replicas, Workers: 256,
		Latency: lat(1 + 2*rng.Float64()), ErrorRate: 0.0002, CPUms: 0.5,
		Operations: []string{"GET /" + name, "POST /" + name}}
	if nAPIs == 1 {
		entry = ServiceSpec{Name: g.unique(name + "-api"), Tier: "api", Kind: KindAPI, Replicas: replicas, Workers: 128,
			Latency: lat(5 + 20*rng.Float64()), ErrorRate: 0.0003, CPUms: 2,
			Operations: []string{"GET /v1/" + name, "POST /v1/" + name}}
	}
	a.entry = add(entry)
	db, cache, queue := "", "", ""
	if withDB {
		db = g.unique(name + "-db")
		add(ServiceSpec{Name: db, Tier: "data", Kind: KindDatabase, Workers: 64, MaxConnections: 400,
			Latency: lat(1 + 3*rng.Float64()), Cores: 8, CPUms: 1})
	}
	if withCache {
		cache = g.unique(name + "-cache")
		add(ServiceSpec{Name: cache, Tier: "data", Kind: KindCache, Workers: 2000, HitRatio: 0.8 + 0.15*rng.Float64(),
			Latency: Latency{P50: ms(0.5), P99: ms(3)}, CPUms: 0.05})
	}
	if withWorker {
		queue = g.unique(name + "-queue")
		add(ServiceSpec{Name: queue, Tier: "queue", Kind: KindQueue, Workers: 5000,
			Latency: Latency{P50: ms(2), P99: ms(10)}, CPUms: 0.1})
	}
	// storeCalls are the calls a service makes to its app's stores: the
	// cache first, the database on its misses, through a pool
	storeCalls := func(s *ServiceSpec) {
		if db == "" {
			return
		}
		s.Pools = []PoolSpec{{To: db, Size: 10 + 10*rng.IntN(3)}}
		call := CallSpec{To: db, Rate: 0.5 + 2*rng.Float64(), Timeout: ms(500)}
		if cache != "" {
			s.Calls = append(s.Calls, CallSpec{To: cache, Timeout: ms(100)})
			call.OnMiss = cache
		}
		s.Calls = append(s.Calls, call)
	}
	for i := 0; i < nAPIs; i++ {
		idx := a.entry
		if nAPIs > 1 {
			role := apiRoles[rng.IntN(len(apiRoles))]
			api := ServiceSpec{Name: g.unique(name + "-" + role), Tier: "api", Kind: KindAPI, Replicas: replicas, Workers: 128,
				Latency: lat(5 + 20*rng.Float64()), ErrorRate: 0.0003, CPUms: 2,
				Operations: []string{"GET /v1/" + role, "POST /v1/" + role}}
			idx = add(api)
			e := &g.services[a.entry]
			e.Calls = append(e.Calls, CallSpec{To: api.Name, Route: true, Rate: 1 / float64(nAPIs), Timeout: ms(5000)})
		}
		a.apis = append(a.apis, idx)
		storeCalls(&g.services[idx])
		if queue != "" && i == 0 {
			s := &g.services[idx]
			s.Calls = append(s.Calls, CallSpec{To: queue, Rate: 0.3, Timeout: ms(500)})
		}
	}
	if withWorker {
		w := ServiceSpec{Name: g.unique(name + "-worker"), Tier: "core", Kind: KindService, Replicas: 2, Workers: 32,
			Latency: lat(10 + 40*rng.Float64()), ErrorRate: 0.0005, CPUms: 5,
			Consumes: []string{queue}, Operations: []string{"process " + queue}}
		storeCalls(&w)
		add(w)
	}
	if withCore {
		// a core service behind the first API
		core := ServiceSpec{Name: g.unique(name + "-core"), Tier: "core", Kind: KindService, Replicas: replicas, Workers: 128,
			Latency: lat(3 + 10*rng.Float64()), ErrorRate: 0.0002, CPUms: 1, Operations: []string{"Resolve"}}
		storeCalls(&core)
		add(core)
		s := &g.services[a.apis[0]]
		s.Calls = append(s.Calls, CallSpec{To: core.Name, Timeout: ms(1000), Retries: 1})
	}
	return a
}

// crossCalls makes some APIs of apps with traffic call an API of a later
// app with traffic: calls only go forward in the list, so the graph has
// no cycle, and no idle app is woken.
func (g *generator) crossCalls(apps []genApp) {
	var active []int
	for i, a := range apps {
		if a.rps > 0 {
			active = append(active, i)
		}
	}
	for k, i := range active {
		later := active[k+1:]
		if len(later) == 0 {
			break
		}
		for _, api := range apps[i].apis {
			for range g.rng.IntN(maxCrossCalls + 1) {
				to := apps[later[g.rng.IntN(len(later))]]
				callee := g.services[to.apis[g.rng.IntN(len(to.apis))]].Name
				s := &g.services[api]
				if s.calls(callee) {
					continue
				}
				s.Calls = append(s.Calls, CallSpec{To: callee, Rate: maxCrossRate * (0.1 + 0.9*g.rng.Float64()), Timeout: timeparse.Duration(time.Second),
					Retries: g.rng.IntN(2), Optional: g.rng.Float64() < 0.5})
			}
		}
	}
}

// unique makes name unique among the fleet's services.
func (g *generator) unique(name string) string {
	n := name
	for k := 2; g.taken[n]; k++ {
		n = fmt.Sprintf("%s-%d", name, k)
	}
	g.taken[n] = true
	return n
}

// calls reports whether s already calls name.
func (s *ServiceSpec) calls(name string) bool {
	for _, c := range s.Calls {
		if c.To == name {
			return true
		}
	}
	return false
}
