package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/oncall-cockpit/oncall/internal/problem"
)

// TestNeverAutomatableWhateverItsSpelling: a never-automatable category
// is refused in any case, with any spaces around it, with _ for - or an
// invisible character in it; a pattern is no category; and a category
// written other than as runbooks write it (lower case, no spaces) is
// named, since it would never match.
func TestNeverAutomatableWhateverItsSpelling(t *testing.T) {
	_, err := parse(t, `remediation:
  automatable:
    - Security
    - "data-corruption "
    - " UNKNOWN"
    - Financial-Transactions
    - "Restart"
    - capacity
    - financial_transactions
    - "security\u200b"
    - "*"
`, nil)
	var ps problem.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("accepted: %v", err)
	}
	for line, want := range map[int]string{
		3:  `"Security" is never automatable`,
		4:  `"data-corruption " is never automatable`,
		5:  `" UNKNOWN" is never automatable`,
		6:  `"Financial-Transactions" is never automatable`,
		7:  `"Restart": write it as "restart"`,
		9:  `"financial_transactions" is never automatable`,
		10: `is never automatable`,
		11: `a category is a name, not a pattern`,
	} {
		found := false
		for _, p := range ps {
			found = found || p.Line == line && strings.Contains(p.Msg, want)
		}
		if !found {
			t.Errorf("line %d: no %q in:\n%v", line, want, err)
		}
	}
	if len(ps) != 8 {
		t.Errorf("want 8 problems (capacity is fine):\n%v", err)
	}
}
