package evaltest

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
	"github.com/oncall-cockpit/oncall/sources"
)

// unscreened hides a backend's REDSummarizer: every service is read
// whole, as before the screen.
type unscreened struct{ sources.Metrics }

// TestScreenChangesNoVerdict: reading only the services the screen picks
// gives the verdict that reading every service gives, in every scenario:
// the same candidates in the same order with the same likelihoods, the
// same anomalies and the same blast radius.
func TestScreenChangesNoVerdict(t *testing.T) {
	for _, sc := range []string{"quiet", "retry-storm", "db-pool-exhaustion", "bad-deploy", "crash-loop", "cache-miss-storm", "slow-db"} {
		for seed := uint64(1); seed <= 3; seed++ {
			for _, after := range []time.Duration{2 * time.Minute, 10 * time.Minute} {
				t.Run(fmt.Sprintf("%s/seed%d/+%s", sc, seed, after), func(t *testing.T) {
					t.Parallel()
					screened, _ := assemble(t, sc, seed, after, nil)
					whole, _ := assemble(t, sc, seed, after, func(s sources.Set) sources.Set {
						s.Metrics = unscreened{s.Metrics}
						return s
					})
					if got, want := verdict(screened), verdict(whole); got != want {
						t.Errorf("screened:\n%s\nread whole:\n%s", got, want)
					}
					if read, of := screenedCounts(screened.Notes); read >= of {
						t.Errorf("the screen left no service out (%d of %d read whole): notes %v", read, of, screened.Notes)
					}
				})
			}
		}
	}
}

// screenedCounts is how many services the screen's note says were read
// whole, of how many.
func screenedCounts(notes []string) (read, of int) {
	for _, n := range notes {
		if m := screenNote.FindStringSubmatch(n); m != nil {
			read, _ = strconv.Atoi(m[1])
			of, _ = strconv.Atoi(m[2])
			return read, of
		}
	}
	return 0, 0
}

var screenNote = regexp.MustCompile(`^metrics screen: (\d+) of (\d+) services read whole`)

// verdict is what an incident concludes, in words to compare.
func verdict(inc *correlate.Incident) string {
	s := inc.Summary + "\n"
	for _, c := range inc.Candidates {
		s += fmt.Sprintf("candidate %s %s %.3f\n", c.Service, c.Likelihood, c.Confidence)
	}
	for _, a := range inc.Anomalies {
		s += fmt.Sprintf("anomaly %s %s at %s\n", a.Service, a.Kind, a.Onset.Format(time.TimeOnly))
	}
	if inc.Blast != nil {
		names := inc.Blast.Names()
		slices.Sort(names)
		s += fmt.Sprintf("blast %v\n", names)
	}
	return s
}
