package trialfleet

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeOncall writes a script that logs its arguments and answers with
// an incident naming harbor-berth first.
func fakeOncall(t *testing.T) (bin, argsLog string) {
	t.Helper()
	dir := t.TempDir()
	argsLog = filepath.Join(dir, "args")
	bin = filepath.Join(dir, "oncall")
	script := "#!/bin/sh\necho \"$@\" >> " + argsLog + "\n" +
		`echo '{"candidates":[{"service":"harbor-berth"},{"service":"berth-pg"}],"blast_radius":{"services":[{"service":"harbor-gate"}]}}'` + "\nexit 3\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, argsLog
}

func TestGradeRunsOncallScopedAndFleetWideWhenAlone(t *testing.T) {
	bin, argsLog := fakeOncall(t)
	onset := time.Date(2026, 12, 6, 9, 10, 0, 0, time.UTC)
	cases := []Case{
		{Class: SlowDB, App: "harbor", Entry: "harbor-gate", Root: "berth-pg", Onset: onset, End: onset.Add(3 * time.Minute),
			BlastRadius: []string{"berth-pg", "harbor-gate"}},
		{Class: PoolShrink, App: "meadow", Entry: "meadow-front", Root: "harbor-berth", Onset: onset.Add(time.Hour), End: onset.Add(time.Hour + 3*time.Minute)},
	}
	g := Grader{Oncall: bin, Config: "cfg.yaml", After: 2 * time.Minute, Window: 15 * time.Minute}
	graded := g.Grade(context.Background(), cases, io.Discard)
	args, _ := os.ReadFile(argsLog)
	want := "--config cfg.yaml incident --at 2026-12-06T09:12:00Z -o json --service harbor-gate\n" +
		"--config cfg.yaml incident --at 2026-12-06T09:12:00Z -o json\n" +
		"--config cfg.yaml incident --at 2026-12-06T10:12:00Z -o json --service meadow-front\n" +
		"--config cfg.yaml incident --at 2026-12-06T10:12:00Z -o json\n"
	if string(args) != want {
		t.Errorf("oncall ran with\n%s\nwant\n%s", args, want)
	}
	first := graded[0]
	if first.Scoped.Top1 || !first.Scoped.Top3 || first.Scoped.Recall != 0.5 || first.Scoped.ExitCode != 3 || !first.Isolated || !first.Fleet.Top3 {
		t.Errorf("first case graded %+v fleet %+v", first.Scoped, first.Fleet)
	}
	table := MarkdownTable(Score(graded, func(g Graded) *Verdict { return &g.Scoped }))
	for _, row := range []string{"| slow-db | 1 | 0.00 | 1.00 | 0.50 |", "| pool-shrink | 1 | 1.00 | 1.00 | 0.00 |"} {
		if !strings.Contains(table, row) {
			t.Errorf("table lacks %q:\n%s", row, table)
		}
	}
	if strings.Index(table, "slow-db") > strings.Index(table, "pool-shrink") {
		t.Error("rows are not in the classes' order")
	}
}
