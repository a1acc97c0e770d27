// Package timeparse reads durations and instants the way every flag and
// config value of oncall reads them, so that `--window 1d` and
// `window: 1d` mean the same.
//
// Durations are Prometheus' (30s, 5m, 1h30m, 1d, 1w, 1y). Instants are
// "now", RFC 3339, Unix seconds (with a fraction), or an offset from now:
// "-10m", "now-10m", "now+5m". It imports nothing of this module.
package timeparse

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Duration parses a Prometheus-style duration: 90s, 5m, 1h30m, 28d, 1w.
func Duration(s string) (time.Duration, error) {
	d, err := model.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (want e.g. 30s, 5m, 1h30m, 1d)", s)
	}
	return time.Duration(d), nil
}

// FormatDuration writes a duration as Duration reads it: 1d, 1h30m, 45s.
func FormatDuration(d time.Duration) string { return model.Duration(d).String() }

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
	if _, err := Duration(s); err == nil {
		return time.Time{}, fmt.Errorf("%q has no sign: write -%s for %s ago (+%s is in the future)", s, s, s, s)
	}
	return time.Time{}, fmt.Errorf("%q is not a time (want now, -10m, now-1h, an RFC 3339 time like 2026-11-27T23:30:00Z, or Unix seconds)", s)
}

func offset(s string, now time.Time) (time.Time, error) {
	d, err := Duration(s[1:])
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
