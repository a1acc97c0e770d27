// Package timeparse reads durations and instants the way every flag,
// config value, runbook and topology of oncall reads them, so that
// `--window 1d`, `window: 1d` and a runbook's `for: 1d` mean the same.
//
// Durations are Prometheus' (30s, 5m, 1h30m, 1d, 1w, 1y), or Go's for
// what Prometheus cannot write (500us, 1.5s); never negative. Duration is
// the one type every YAML file of oncall reads them into. Instants are
// "now", RFC 3339, Unix seconds (with a fraction), or an offset from now:
// "-10m", "now-10m", "now+5m". It imports nothing of this module.
package timeparse

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// ParseDuration parses a duration: Prometheus-style (90s, 5m, 1h30m, 28d,
// 1w), or Go's (500us, 1.5s), which the simulator's latencies need.
// Negative durations are refused.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	d, err := model.ParseDuration(t)
	if err == nil {
		return time.Duration(d), nil
	}
	if err.Error() == "duration out of range" {
		return 0, fmt.Errorf("%q is too large a duration (at most about 292 years)", s)
	}
	// Go's parser reads a sign, which a duration here never has
	if d, err := time.ParseDuration(t); err == nil && t[0] != '-' && t[0] != '+' {
		return d, nil
	}
	return 0, fmt.Errorf("%q is not a duration (want e.g. 30s, 5m, 1h30m, 1d)", s)
}

// ParseRate reads a rate, N runs per duration: "3/1h", "10/1d". The
// count is at least 1 and the duration positive.
func ParseRate(s string) (int, time.Duration, error) {
	n, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	c, err1 := strconv.Atoi(strings.TrimSpace(n))
	d, err2 := ParseDuration(per)
	if !ok || err1 != nil || err2 != nil || c < 1 || d <= 0 {
		return 0, 0, fmt.Errorf("rate %q: write runs/duration, e.g. 3/1h", s)
	}
	return c, d, nil
}

// FormatDuration writes a duration as ParseDuration reads it: 1d, 1h30m,
// 45s; in Go's form (500µs) when Prometheus' would lose a fraction of a
// millisecond.
func FormatDuration(d time.Duration) string {
	if d < 0 || d%time.Millisecond != 0 {
		return d.String()
	}
	return model.Duration(d).String()
}

// Duration is a duration in a YAML file (a config, a runbook, a topology),
// read by ParseDuration and written by FormatDuration.
type Duration time.Duration

// UnmarshalYAML parses the duration; the error names its line.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration the way it is read: "5m".
func (d Duration) MarshalYAML() (any, error) { return FormatDuration(time.Duration(d)), nil }

// MarshalJSON writes the duration the way it is read: "5m".
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(FormatDuration(time.Duration(d)))), nil
}

// Or is the duration, or def when none was written (zero).
func (d Duration) Or(def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return time.Duration(d)
}

// Time parses an instant. Relative forms are taken from now; an offset
// needs its sign (a bare "10m" is refused, since it would mean the
// future). Every instant comes back in UTC.
func Time(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return time.Time{}, fmt.Errorf("empty time (want now, -10m, an RFC 3339 time or Unix seconds)")
	case s == "now":
		return now.UTC(), nil
	case strings.HasPrefix(s, "now-"), strings.HasPrefix(s, "now+"):
		return offset(s[3:], now)
	case s[0] == '-' || s[0] == '+':
		return offset(s, now)
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), nil
	}
	if _, err := ParseDuration(s); err == nil {
		return time.Time{}, fmt.Errorf("%q has no sign: write -%s for %s ago (+%s is in the future)", s, s, s, s)
	}
	return time.Time{}, fmt.Errorf("%q is not a time (want now, -10m, now-1h, an RFC 3339 time like 2026-11-27T23:30:00Z, or Unix seconds)", s)
}

func offset(s string, now time.Time) (time.Time, error) {
	d, err := ParseDuration(s[1:])
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: %w", s, err)
	}
	if s[0] == '-' {
		d = -d
	}
	return now.Add(d).UTC(), nil
}

// Zone reads a --timezone value: UTC, local, or an IANA name like
// Europe/Berlin.
func Zone(s string) (*time.Location, error) {
	switch strings.ToLower(s) {
	case "", "utc":
		return time.UTC, nil
	case "local":
		return time.Local, nil
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		return nil, fmt.Errorf("timezone %q: want UTC, local or an IANA name like Europe/Berlin", s)
	}
	return loc, nil
}
