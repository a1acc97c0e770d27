package timeparse

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestDurationAsTheConfigReadsIt(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"30s": 30 * time.Second, "5m": 5 * time.Minute, "1h30m": 90 * time.Minute, "1d": 24 * time.Hour, "1w": 7 * 24 * time.Hour, " 2h ": 2 * time.Hour,
		"0": 0, "500us": 500 * time.Microsecond, "1.5s": 1500 * time.Millisecond, "2m0s": 2 * time.Minute,
	} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "5", "-5m", "-1.5s", "+5m", "1fortnight", "5 minutes"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := ParseDuration("99999999d"); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("99999999d: %v, want it called too large", err)
	}
	for d, want := range map[time.Duration]string{36 * time.Hour: "1d12h", 5 * time.Minute: "5m", 0: "0s", 500 * time.Microsecond: "500µs"} {
		if got := FormatDuration(d); got != want {
			t.Errorf("%v written as %q, want %q", d, got, want)
		}
	}
}

// TestDurationInYAML: every YAML file reads durations alike, names the
// line of a bad one, and writes them back as they are read.
func TestDurationInYAML(t *testing.T) {
	var v struct {
		For     Duration `yaml:"for"`
		Latency Duration `yaml:"latency"`
		Unset   Duration `yaml:"unset"`
	}
	if err := yaml.Unmarshal([]byte("for: 1d\nlatency: 500us\n"), &v); err != nil || v.For != Duration(24*time.Hour) || v.Latency != Duration(500*time.Microsecond) {
		t.Fatalf("%+v %v", v, err)
	}
	if v.Unset.Or(time.Minute) != time.Minute || v.For.Or(time.Minute) != 24*time.Hour {
		t.Errorf("Or: %v %v", v.Unset.Or(time.Minute), v.For.Or(time.Minute))
	}
	for in, want := range map[string]string{
		"for: 1d\nlatency: 2 minutes\n": `line 2: "2 minutes" is not a duration`,
		"for: -5m\n":                    `line 1: "-5m" is not a duration`,
	} {
		if err := yaml.Unmarshal([]byte(in), &v); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
	y, err := yaml.Marshal(map[string]Duration{"cooldown": Duration(5 * time.Minute)})
	if err != nil || string(y) != "cooldown: 5m\n" {
		t.Errorf("YAML %q %v", y, err)
	}
	j, err := json.Marshal(map[string]Duration{"cooldown": Duration(90 * time.Second)})
	if err != nil || string(j) != `{"cooldown":"1m30s"}` {
		t.Errorf("JSON %s %v", j, err)
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

func TestRate(t *testing.T) {
	for in, want := range map[string]time.Duration{"3/1h": time.Hour, " 10 / 1d ": 24 * time.Hour, "1/90s": 90 * time.Second} {
		n, per, err := ParseRate(in)
		if err != nil || n < 1 || per != want {
			t.Errorf("%q: %d per %s, %v; want per %s", in, n, per, err, want)
		}
	}
	for _, bad := range []string{"", "3", "3/", "/1h", "0/1h", "-1/1h", "3/0s", "3/-1h", "x/1h", "3/1x"} {
		if _, _, err := ParseRate(bad); err == nil || !strings.Contains(err.Error(), "write runs/duration") {
			t.Errorf("%q: %v, want refused", bad, err)
		}
	}
}
