package trialfleet

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"

	"go.yaml.in/yaml/v3"
)

// Topology is the fleet: apps of services that call each other and
// databases that only their callers' client spans show.
type Topology struct {
	// Prefix names the fleet's own metrics (<prefix>_deploy_info, …).
	Prefix string `yaml:"prefix"`
	Apps   []App  `yaml:"apps"`
}

// App is one product: an entry service with a worker pool that users
// call, its mid-tier services and its databases.
type App struct {
	Name  string  `yaml:"name"`
	Entry string  `yaml:"entry"`
	Rate  float64 `yaml:"rate"` // requests per second arriving at the entry
	// PoolMetrics is the exporter its pools are seen through: hikaricp or go_sql.
	PoolMetrics string     `yaml:"pool_metrics"`
	Services    []Service  `yaml:"services"`
	Databases   []Database `yaml:"databases"`
	// Faults name, per fault class, what the class breaks in this app: a
	// database for slow-db, a service with a pool for pool-shrink, the
	// entry for worker-saturation, any service otherwise.
	Faults map[Class]string `yaml:"faults"`
}

// Service is one instrumented process.
type Service struct {
	Name    string        `yaml:"name"`
	Version string        `yaml:"version"`
	Route   string        `yaml:"route"`
	Workers int           `yaml:"workers"` // worker pool size; 0 serves every request at once
	Self    time.Duration `yaml:"self"`    // own processing time, not counting CPU
	CPU     time.Duration `yaml:"cpu"`     // CPU time per request
	Cores   int           `yaml:"cores"`   // CPU limit
	Timeout time.Duration `yaml:"timeout"` // client timeout of its calls to services
	Retries int           `yaml:"retries"` // extra attempts after a timeout or a 503
	Calls   []string      `yaml:"calls"`
	Pool    *Pool         `yaml:"pool"`
	// ErrorRate is the share of requests failing for no injected reason,
	// so a healthy baseline is not spotless.
	ErrorRate float64 `yaml:"error_rate"`
}

// Pool is a service's connection pool to one database.
type Pool struct {
	Name    string        `yaml:"name"` // the exporter's pool name (HikariCP pool or database/sql db_name)
	DB      string        `yaml:"db"`
	Max     int           `yaml:"max"`
	Wait    time.Duration `yaml:"wait"`    // how long a request waits for a connection before failing
	Queries int           `yaml:"queries"` // queries per request, each a client span
	Hold    time.Duration `yaml:"hold"`    // work done while holding the connection (a transaction)
}

// Database is an uninstrumented database, named as Tempo's service graph
// names it: by server.address.
type Database struct {
	Name    string        `yaml:"name"`
	System  string        `yaml:"system"`  // db.system
	DBName  string        `yaml:"db_name"` // db.name
	Latency time.Duration `yaml:"latency"` // median query time
}

// LoadTopology reads and checks a topology file.
func LoadTopology(path string) (Topology, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Topology{}, err
	}
	return ParseTopology(b, path)
}

// ParseTopology decodes a topology strictly (unknown keys are errors)
// and checks that every call and pool names something that exists.
func ParseTopology(b []byte, name string) (Topology, error) {
	var t Topology
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		return Topology{}, fmt.Errorf("%s: %w", name, err)
	}
	if err := t.check(); err != nil {
		return Topology{}, fmt.Errorf("%s: %w", name, err)
	}
	return t, nil
}

func (t Topology) check() error {
	var errs []error
	if t.Prefix == "" {
		errs = append(errs, errors.New("prefix is required"))
	}
	seen := map[string]bool{}
	for _, a := range t.Apps {
		names := map[string]bool{}
		for _, s := range a.Services {
			if seen[s.Name] {
				errs = append(errs, fmt.Errorf("app %s: service %s defined twice", a.Name, s.Name))
			}
			seen[s.Name], names[s.Name] = true, true
		}
		dbs := map[string]bool{}
		for _, d := range a.Databases {
			dbs[d.Name] = true
			if d.System == "" || d.DBName == "" || d.Latency <= 0 {
				errs = append(errs, fmt.Errorf("app %s: database %s needs system, db_name and latency", a.Name, d.Name))
			}
		}
		if !names[a.Entry] {
			errs = append(errs, fmt.Errorf("app %s: entry %q is not one of its services", a.Name, a.Entry))
		}
		if a.Rate <= 0 {
			errs = append(errs, fmt.Errorf("app %s: rate must be positive", a.Name))
		}
		if a.PoolMetrics != "hikaricp" && a.PoolMetrics != "go_sql" {
			errs = append(errs, fmt.Errorf("app %s: pool_metrics %q is not hikaricp or go_sql", a.Name, a.PoolMetrics))
		}
		for class, target := range a.Faults {
			if err := checkTarget(a, class, target, names, dbs); err != nil {
				errs = append(errs, fmt.Errorf("app %s: fault %s: %w", a.Name, class, err))
			}
		}
		for _, s := range a.Services {
			for _, c := range s.Calls {
				if !names[c] {
					errs = append(errs, fmt.Errorf("app %s: %s calls unknown service %q", a.Name, s.Name, c))
				}
			}
			if len(s.Calls) > 0 && s.Timeout <= 0 {
				errs = append(errs, fmt.Errorf("app %s: %s makes calls but has no timeout", a.Name, s.Name))
			}
			if s.Cores <= 0 || s.Version == "" {
				errs = append(errs, fmt.Errorf("app %s: %s needs cores and version", a.Name, s.Name))
			}
			if s.Pool != nil && (!dbs[s.Pool.DB] || s.Pool.Max <= 0 || s.Pool.Name == "") {
				errs = append(errs, fmt.Errorf("app %s: %s's pool needs a name, a positive max and a known db", a.Name, s.Name))
			}
		}
	}
	return errors.Join(errs...)
}

// App returns the app that holds service or database name.
func (t Topology) App(name string) (App, bool) {
	for _, a := range t.Apps {
		for _, s := range a.Services {
			if s.Name == name {
				return a, true
			}
		}
		for _, d := range a.Databases {
			if d.Name == name {
				return a, true
			}
		}
	}
	return App{}, false
}
