package config

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DSN is where the history is kept: a postgres:// URL, whose password
// is a secret, or a SQLite file's path. It prints, marshals and logs
// with the password as "<redacted>"; only Reveal returns it whole.
type DSN string

// Reveal returns the DSN whole, for the one place that connects.
func (d DSN) Reveal() string { return string(d) }

// Postgres reports whether the DSN names a PostgreSQL server rather
// than a SQLite file.
func (d DSN) Postgres() bool { return IsPostgresDSN(string(d)) }

// IsPostgresDSN reports whether s is a postgres:// or postgresql:// URL.
func IsPostgresDSN(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// hasScheme is whether s begins with a URL scheme and a colon ("file:",
// "mysql:"): letters, then letters, digits, '+', '-' or '.'. One letter
// is a Windows drive (C:), not a scheme.
func hasScheme(s string) bool {
	scheme, _, ok := strings.Cut(s, ":")
	if !ok || len(scheme) < 2 || !isLetter(scheme[0]) {
		return false
	}
	for i := 1; i < len(scheme); i++ {
		if c := scheme[i]; !isLetter(c) && !('0' <= c && c <= '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// Password is the DSN's password, in the URL's user or its password
// parameter; "" for a SQLite path. Errors that might echo it are
// scrubbed of it.
func (d DSN) Password() string {
	if !d.Postgres() {
		return ""
	}
	u, err := url.Parse(string(d))
	if err != nil {
		return ""
	}
	if p, ok := u.User.Password(); ok {
		return p
	}
	return u.Query().Get("password")
}

func (d DSN) String() string {
	if !d.Postgres() {
		return string(d)
	}
	u, err := url.Parse(string(d))
	if err != nil {
		// a URL that does not parse may hold a password anywhere
		return redacted
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "REDACTED")
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "REDACTED")
		u.RawQuery = q.Encode()
	}
	return strings.ReplaceAll(u.String(), "REDACTED", redacted)
}

// GoString keeps %#v from printing the password.
func (d DSN) GoString() string { return d.String() }

// MarshalYAML redacts the password.
func (d DSN) MarshalYAML() (any, error) { return d.String(), nil }

// MarshalJSON redacts the password.
func (d DSN) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(d.String())), nil }

// DefaultWorkingHours are the hours a page is in hours when the config
// names none.
const DefaultWorkingHours = "09:00-18:00 Mon-Fri"

// WorkingHours are the hours of the week a page is in hours: from the
// hour Start to the hour End (End after Start, at most 24) on Days. Whole
// hours, as the stats count them.
type WorkingHours struct {
	Start, End int
	Days       []time.Weekday
}

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseWorkingHours reads "09:00-18:00 Mon-Fri": a span of the day,
// then days as a range (Mon-Fri) or a list (Mon,Wed,Fri); no days means
// every day.
func ParseWorkingHours(s string) (WorkingHours, error) {
	var w WorkingHours
	fields := strings.Fields(s)
	if len(fields) == 0 || len(fields) > 2 {
		return w, fmt.Errorf("%q: write hours and days, as in %q", s, DefaultWorkingHours)
	}
	from, to, ok := strings.Cut(fields[0], "-")
	if !ok {
		return w, fmt.Errorf("%q: the hours are a span, as in 09:00-18:00", fields[0])
	}
	var err error
	if w.Start, err = clockHour(from); err != nil {
		return w, err
	}
	if w.End, err = clockHour(to); err != nil {
		return w, err
	}
	if w.End <= w.Start {
		return w, fmt.Errorf("%q: the end comes before the start; a span across midnight is two days' hours", fields[0])
	}
	if len(fields) == 1 {
		w.Days = []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}
		return w, nil
	}
	for _, part := range strings.Split(fields[1], ",") {
		a, b, isRange := strings.Cut(part, "-")
		first, err := weekday(a)
		if err != nil {
			return w, err
		}
		last := first
		if isRange {
			if last, err = weekday(b); err != nil {
				return w, err
			}
		}
		// Fri-Mon wraps over the weekend
		for d := first; ; d = (d + 1) % 7 {
			if !slices.Contains(w.Days, d) {
				w.Days = append(w.Days, d)
			}
			if d == last {
				break
			}
		}
	}
	return w, nil
}

// clockHour reads HH:00 as an hour of the day; 24:00 is the day's end.
func clockHour(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err := strconv.Atoi(h)
	if !ok || err != nil || hh < 0 || hh > 24 || len(m) != 2 {
		return 0, fmt.Errorf("%q is not a time of day like 09:00", s)
	}
	if m != "00" {
		return 0, fmt.Errorf("%q: working hours are whole hours, like 09:00", s)
	}
	return hh, nil
}

func weekday(s string) (time.Weekday, error) {
	for i, d := range weekdays {
		if strings.EqualFold(s, d) {
			return time.Weekday(i), nil
		}
	}
	return 0, fmt.Errorf("%q is not a day: write Mon, Tue, Wed, Thu, Fri, Sat or Sun", s)
}

// checkHistory checks the history section: a DSN oncall can open, and
// working hours that read.
func (v *validator) checkHistory(h *History) {
	if d := string(h.DSN); d != "" {
		switch {
		case IsPostgresDSN(d):
			u, err := url.Parse(d)
			if err != nil {
				// the parse error quotes the URL, password and all
				v.atPath("history.dsn", "not a URL: write postgres://USER:PASSWORD@HOST:PORT/DATABASE (${VAR} reads the password from the environment)")
			} else if u.Path == "" || u.Path == "/" {
				v.atPath("history.dsn", "%s names no database: end it with /DATABASE", h.DSN)
			}
		case hasScheme(d):
			// SQLite would take "file:/x" as a relative file named
			// "file:/x"; only the scheme is shown, as the rest may hold a
			// password
			scheme, _, _ := strings.Cut(d, ":")
			v.atPath("history.dsn", "%q: the history is kept in a SQLite file, named by its path (write the path itself; ./NAME for a name with a colon), or in PostgreSQL (postgres://…)", scheme+":")
		case strings.Contains(d, "=") && strings.Contains(d, " "):
			v.atPath("history.dsn", "write the PostgreSQL DSN as a postgres:// URL, not as key=value pairs")
		default:
			// a SQLite file, beside the config when relative
			h.DSN = DSN(v.resolve(d))
		}
	}
	if h.WorkingHours != "" {
		if _, err := ParseWorkingHours(h.WorkingHours); err != nil {
			v.atPath("history.working_hours", "%v", err)
		}
	}
}

// Hours are the config's working hours, else DefaultWorkingHours.
func (h History) Hours() WorkingHours {
	w, err := ParseWorkingHours(h.WorkingHours)
	if err != nil {
		// validated when the file was read; the default parses
		w, _ = ParseWorkingHours(DefaultWorkingHours)
	}
	return w
}
