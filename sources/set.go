package sources

// Set is every kind of backend at once: what an incident is assembled
// from and what the cockpit reads. Any may be nil; its evidence is then
// reported missing.
type Set struct {
	Metrics   Metrics
	Logs      Logs
	Traces    Traces
	Alerts    Alerting
	Changes   Changes
	Resources Resources
	SLIs      SLIs
}
