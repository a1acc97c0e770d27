package timeparse

import (
	"strings"
	"testing"
	"time"
)

func TestDurationAsTheConfigReadsIt(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"30s": 30 * time.Second, "5m": 5 * time.Minute, "1h30m": 90 * time.Minute, "1d": 24 * time.Hour, "1w": 7 * 24 * time.Hour, " 2h ": 2 * time.Hour,
	} {
		if got, err := Duration(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "5", "-5m", "1fortnight", "5 minutes"} {
		if _, err := Duration(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if FormatDuration(36*time.Hour) != "1d12h" {
		t.Error(FormatDuration(36 * time.Hour))
	}
}

func TestTimeForms(t *testing.T) {
	now := time.Date(2026, 11, 27, 23, 30, 0, 0, time.FixedZone("CET", 3600))
	for in, want := range map[string]time.Time{
		"now":                       now.UTC(),
		"-10m":                      now.Add(-10 * time.Minute).UTC(),
		"now-1h":                    now.Add(-time.Hour).UTC(),
		"now+5m":                    now.Add(5 * time.Minute).UTC(),
		"+1d":                       now.Add(24 * time.Hour).UTC(),
		"2026-11-28T00:30:00+01:00": time.Date(2026, 11, 27, 23, 30, 0, 0, time.UTC),
		"2026-11-27T23:30:00.5Z":    time.Date(2026, 11, 27, 23, 30, 0, 5e8, time.UTC),
		"1795570813":                time.Unix(1795570813, 0).UTC(),
		"1795570813.25":             time.Unix(1795570813, 25e7).UTC(),
	} {
		got, err := Time(in, now)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%q: %v %v, want %v in UTC", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"10m":       "has no sign: write -10m",
		"yesterday": "is not a time",
		"-10x":      "not a duration",
		"":          "empty time",
	} {
		if _, err := Time(in, now); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: %v, want %q", in, err, msg)
		}
	}
}

func TestZone(t *testing.T) {
	for in, want := range map[string]string{"": "UTC", "utc": "UTC", "local": "Local", "Europe/Berlin": "Europe/Berlin"} {
		if z, err := Zone(in); err != nil || z.String() != want {
			t.Errorf("%q: %v %v", in, z, err)
		}
	}
	if _, err := Zone("Mars/Olympus"); err == nil {
		t.Error("an unknown zone was accepted")
	}
}
