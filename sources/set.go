package sources

// Set is every kind of backend at once: what an incident is assembled
// from and what the cockpit reads. Any may be nil; its evidence is then
// reported missing.
type Set struct {
	Metrics Metrics
	Logs    Logs
	Traces  Traces
	Alerts  Alerting
	// RuleAlerts are the alerts Prometheus's rules fire, read only where
	// no Alerts is configured (see AlertSource): Prometheus neither
	// dedupes its alerts nor knows silences.
	RuleAlerts AlertReader
	Changes    Changes
	Resources  Resources
	SLIs       SLIs
}

// AlertSource is where the firing alerts are read: the alert manager
// when there is one, else Prometheus's rules; nil when neither is
// configured. Silences and acknowledgements need Alerts itself.
func (s Set) AlertSource() AlertReader {
	if s.Alerts != nil {
		return s.Alerts
	}
	return s.RuleAlerts
}
