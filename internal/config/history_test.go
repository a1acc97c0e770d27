package config

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestHistoryDSNPasswordNeverShows: a PostgreSQL password read from the
// environment reaches Reveal and nothing else: not config show's YAML or
// JSON, not %v, not %#v.
func TestHistoryDSNPasswordNeverShows(t *testing.T) {
	cfg, err := parse(t, "history:\n  dsn: postgres://oncall:${PGPW}@db.example:5432/oncall?sslmode=require\n", map[string]string{"PGPW": "pa55w0rd"})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.History.DSN.Reveal(); got != "postgres://oncall:pa55w0rd@db.example:5432/oncall?sslmode=require" {
		t.Fatalf("Reveal %q", got)
	}
	if !cfg.History.DSN.Postgres() || cfg.History.DSN.Password() != "pa55w0rd" {
		t.Fatalf("postgres %v, password %q", cfg.History.DSN.Postgres(), cfg.History.DSN.Password())
	}
	y, _ := yaml.Marshal(cfg)
	j, _ := json.Marshal(cfg)
	for _, out := range []string{string(y), string(j), fmt.Sprint(cfg.History.DSN), fmt.Sprintf("%#v", cfg.History)} {
		if strings.Contains(out, "pa55w0rd") {
			t.Fatalf("the password shows:\n%s", out)
		}
	}
	if want := "postgres://oncall:<redacted>@db.example:5432/oncall?sslmode=require"; !strings.Contains(string(y), want) {
		t.Fatalf("config show lacks %q:\n%s", want, y)
	}
	// a password given as a parameter is a password too
	d := DSN("postgres://db/oncall?password=s3cret&sslmode=disable")
	if strings.Contains(d.String(), "s3cret") || d.Password() != "s3cret" {
		t.Fatalf("parameter password: %q, %q", d.String(), d.Password())
	}
}

// TestHistoryDSNSQLitePathIsBesideTheConfig: a relative SQLite path is
// read from the config's directory, as every other file is.
func TestHistoryDSNSQLitePathIsBesideTheConfig(t *testing.T) {
	cfg, err := parse(t, "history:\n  dsn: team/history.db\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.History.DSN
	if d.Postgres() || !filepath.IsAbs(d.Reveal()) || !strings.HasSuffix(d.Reveal(), filepath.Join("team", "history.db")) || d.String() != d.Reveal() {
		t.Fatalf("SQLite path %q (shown %q)", d.Reveal(), d.String())
	}
	// a colon after ./ or a directory is part of a file's name, not a
	// scheme's end
	for _, name := range []string{"./history:v2.db", "team/a:b.db"} {
		cfg, err := parse(t, "history:\n  dsn: "+name+"\n", nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := cfg.History.DSN.Reveal(); !filepath.IsAbs(d) || !strings.HasSuffix(d, filepath.Clean(name)) {
			t.Errorf("%s read as %q", name, d)
		}
	}
}

func TestHistoryProblemsNameTheirLine(t *testing.T) {
	cases := []struct {
		name, src string
		line, col int
		contains  string
	}{
		{"another database", "history:\n  dsn: mysql://oncall:s3cret@db/oncall\n", 2, 8, `history.dsn: "mysql:": the history is kept in a SQLite file, named by its path (write the path itself; ./NAME for a name with a colon), or in PostgreSQL (postgres://…)`},
		{"file: URL", "history:\n  dsn: file:/tmp/x.sqlite\n", 2, 8, `history.dsn: "file:": the history is kept in a SQLite file, named by its path (write the path itself`},
		{"sqlite: prefix", "history:\n  dsn: sqlite:/x\n", 2, 8, `"sqlite:": the history is kept in a SQLite file, named by its path`},
		{"postgres without //", "history:\n  dsn: postgres:db\n", 2, 8, `"postgres:": the history is kept in a SQLite file`},
		{"key=value form", "history:\n  dsn: host=db user=oncall\n", 2, 8, "as a postgres:// URL"},
		{"no database", "history:\n  dsn: postgres://db:5432\n", 2, 8, "names no database"},
		{"hours", "history:\n  working_hours: 9-18 Mon-Fri\n", 2, 18, "not a time of day"},
		{"days", "history:\n  working_hours: 09:00-18:00 Mon-Fry\n", 2, 18, `"Fry" is not a day`},
		{"backwards", "history:\n  working_hours: 22:00-06:00\n", 2, 18, "across midnight"},
		{"unknown key", "history:\n  dns: x.db\n", 2, 3, `did you mean "dsn"?`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parse(t, c.src, nil)
			wantProblem(t, err, c.line, c.col, c.contains)
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the problem shows the password: %v", err)
			}
		})
	}
}

func TestWorkingHours(t *testing.T) {
	w, err := ParseWorkingHours("08:00-17:00 Fri-Mon")
	if err != nil {
		t.Fatal(err)
	}
	// Fri-Mon wraps over the weekend
	if want := []time.Weekday{time.Friday, time.Saturday, time.Sunday, time.Monday}; w.Start != 8 || w.End != 17 || !slices.Equal(w.Days, want) {
		t.Errorf("Fri-Mon: %+v", w)
	}
	if w, _ := ParseWorkingHours("07:00-19:00 Mon,Wed"); !slices.Equal(w.Days, []time.Weekday{time.Monday, time.Wednesday}) {
		t.Errorf("a list of days: %+v", w)
	}
	if d := (History{}).Hours(); len(d.Days) != 5 || d.Start != 9 || d.End != 18 {
		t.Errorf("default hours %+v", d)
	}
	if all, _ := ParseWorkingHours("00:00-24:00"); len(all.Days) != 7 || all.End != 24 {
		t.Errorf("every day, all day: %+v", all)
	}
	if _, err := ParseWorkingHours("08:30-17:00"); err == nil || !strings.Contains(err.Error(), "whole hours") {
		t.Errorf("08:30: %v", err)
	}
}
