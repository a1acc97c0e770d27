package history

import (
	"testing"

	"github.com/oncall-cockpit/oncall/sources"
)

func TestRelated(t *testing.T) {
	span := func(service string, start, end int) Record {
		a := AlertSpan{Name: "A", Service: service, Start: at(start)}
		if end >= 0 {
			a.End = at(end)
		}
		r := Record{Alerts: []AlertSpan{a}}
		if service != "" {
			r.Services = []string{service}
		}
		return r
	}
	named := func(name, service string, start, end int) Record {
		r := span(service, start, end)
		r.Alerts[0].Name = name
		return r
	}
	resolved := func(r Record, at0 int) Record { r.Resolved = Stamp{T: at(at0)}; return r }
	graph := GraphNeighbours([]sources.Edge{{Client: "web", Server: "db"}})
	tests := []struct {
		name string
		a, b Record
		near Neighbours
		want bool
	}{
		{"overlapping, same service", span("web", 0, 10), span("web", 5, 20), nil, true},
		{"within the gap after the last firing", span("web", 0, 10), span("web", 15, 20), nil, true},
		{"past the gap", span("web", 0, 10), span("web", 16, 20), nil, false},
		{"past the gap, the other way round", span("web", 16, 20), span("web", 0, 10), nil, false},
		{"still firing holds any later start", span("web", 0, -1), span("web", 50, -1), nil, true},
		{"a resolved record's span with no end ended at its resolution", resolved(span("web", 0, -1), 8), span("web", 15, 20), nil, false},
		{"within the gap of that resolution", resolved(span("web", 0, -1), 8), span("web", 13, 20), nil, true},
		{"past the gap of the resolution, whatever tail its alerts fired", resolved(span("web", 0, 30), 8), span("web", 14, 40), nil, false},
		{"different services, no graph", span("web", 0, 10), span("db", 5, 20), nil, false},
		{"neighbours in the graph, server side first", span("db", 0, 10), span("web", 5, 20), graph, true},
		{"not neighbours", span("web", 0, 10), span("cache", 5, 20), graph, false},
		{"no service label joins its own alert's firings", span("", 0, 10), span("db", 5, 20), nil, true},
		{"no service label does not join another alert's", named("NodeDown", "", 0, 10), span("db", 5, 20), nil, false},
		{"nor another service-less alert's", named("NodeDown", "", 0, 10), span("", 5, 20), nil, false},
		{"two service-less firings of one alert", named("NodeDown", "", 0, 10), named("NodeDown", "", 12, 20), nil, true},
		{"no service label still needs the time", span("", 0, 10), span("db", 30, 40), nil, false},
		{"a record with no alert spans its onset to resolution",
			Record{Services: []string{"web"}, Onset: Stamp{T: at(0)}, Resolved: Stamp{T: at(10)}}, span("web", 12, 20), nil, true},
		{"a record with no time", Record{Services: []string{"web"}}, span("web", 0, 10), nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Related(tc.a, tc.b, tc.near); got != tc.want {
				t.Errorf("Related = %v, want %v", got, tc.want)
			}
			if got := Related(tc.b, tc.a, tc.near); got != tc.want {
				t.Errorf("Related reversed = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSeverest(t *testing.T) {
	for _, tc := range []struct{ a, b, want string }{
		{"warning", "critical", "critical"},
		{"Critical", "page", "Critical"},
		{"", "ticket", "ticket"},
		{"ticket", "page", "page"},
		{"ticket", "warning", "ticket"}, // as urgent: the first kept
		{"sev9", "", "sev9"},
		{"sev9", "info", "info"},
		{"info", "", "info"},
	} {
		if got := Severest(tc.a, tc.b); got != tc.want {
			t.Errorf("Severest(%q, %q) = %q, want %q", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestHeartbeat(t *testing.T) {
	for _, tc := range []struct {
		name, severity string
		want           bool
	}{
		{"Watchdog", "none", true},
		{"DeadMansSwitch", "", true},
		{"InfoInhibitor", "none", true},
		{"Anything", "None", true},
		{"HighErrorRate", "page", false},
		{"HighErrorRate", "", false},
	} {
		if got := Heartbeat(tc.name, tc.severity); got != tc.want {
			t.Errorf("Heartbeat(%q, %q) = %v, want %v", tc.name, tc.severity, got, tc.want)
		}
	}
}

func TestAbsorbs(t *testing.T) {
	fixed := Record{Services: []string{"web"}, Resolved: Stamp{T: at(20)},
		Alerts: []AlertSpan{{Name: "Burn", Service: "web", Start: at(5)}}}
	look := func(name, service string, start int) Record {
		return Record{Services: []string{service}, Alerts: []AlertSpan{{Name: name, Service: service, Start: at(start)}}}
	}
	graph := GraphNeighbours([]sources.Edge{{Client: "web", Server: "db"}})
	tests := []struct {
		name     string
		resolved Record
		look     Record
		want     bool
	}{
		{"its own firing, long after the fix", fixed, look("Burn", "web", 5), true},
		{"its own firing, seen by another source a step later", fixed, look("Burn", "web", 6), true},
		{"a new firing within the gap of the fix", fixed, look("Errors", "db", 24), true},
		{"a new firing just before the fix", fixed, look("Errors", "web", 16), true},
		{"a firing the record's looks left out", fixed, look("Errors", "web", 10), false},
		{"a new firing past the gap of the fix", fixed, look("Errors", "web", 26), false},
		{"a new firing elsewhere", fixed, look("Errors", "cart", 21), false},
		{"no alert, the same root", withRoot(fixed, "web"), Record{Root: "web", Onset: Stamp{T: at(2)}}, true},
		{"no alert, another root", withRoot(fixed, "web"), Record{Root: "db", Onset: Stamp{T: at(2)}}, false},
		{"no alert, the same root begun past the gap", withRoot(fixed, "web"), Record{Root: "web", Onset: Stamp{T: at(26)}}, false},
		{"an open record absorbs nothing: Related decides", Record{Services: []string{"web"}, Alerts: fixed.Alerts}, look("Burn", "web", 5), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := absorbs(tc.resolved, tc.look, graph); got != tc.want {
				t.Errorf("absorbs = %v, want %v", got, tc.want)
			}
		})
	}
}

func withRoot(r Record, root string) Record { r.Root = root; return r }
