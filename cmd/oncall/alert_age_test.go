package main

import (
	"testing"
	"time"
)

// TestAlertStartAbsurdOrOtherDay: an alert whose start is in the future
// or before 1970 (a backend's bad clock) has no age, not an overflowed or
// saturated duration; a start not today in the zone shows its date.
func TestAlertStartAbsurdOrOtherDay(t *testing.T) {
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	cet := time.FixedZone("CET", 3600)
	cases := []struct {
		name       string
		start      time.Time
		zone       *time.Location
		since, age string
	}{
		{"unknown", time.Time{}, time.UTC, "-", "-"},
		{"today", now.Add(-90 * time.Minute), time.UTC, "01:30:00 UTC", "1h30m0s"},
		{"skewed a little ahead", now.Add(2 * time.Second), time.UTC, "03:00:02 UTC", "0s"},
		{"yesterday", now.Add(-4 * time.Hour), time.UTC, "2026-11-24 23:00 UTC", "4h0m0s"},
		{"today in the zone, yesterday in UTC", now.Add(-4 * time.Hour), cet, "00:00:00 CET", "4h0m0s"},
		{"year 9999", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.UTC, "9999-12-31 23:59 UTC", "-"},
		{"year 1000", time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), time.UTC, "1000-01-01 00:00 UTC", "-"},
	}
	for _, c := range cases {
		if got := since(now, c.start, c.zone); got != c.since {
			t.Errorf("%s: since %q, want %q", c.name, got, c.since)
		}
		if got := age(now, c.start); got != c.age {
			t.Errorf("%s: age %q, want %q", c.name, got, c.age)
		}
	}
}
