package remediate

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sources"
	"github.com/oncall-cockpit/oncall/sources/alertmanager"
)

// TestMain lets the tests run this binary as a second process: with
// REMEDIATE_HELPER set it plays one part and exits.
func TestMain(m *testing.M) {
	switch os.Getenv("REMEDIATE_HELPER") {
	case "":
		os.Exit(m.Run())
	case "run-sleep":
		helperRunSleep()
	case "run-pid":
		helperRunPID()
	case "lock":
		helperLock()
	case "append":
		helperAppend()
	case "hold":
		helperHold()
	case "file-run":
		helperFileRun()
	}
	os.Exit(0)
}

// helperRunSleep runs one exec action, sleep 60, with its audit log at
// $AUDIT: the parent kills it while the action runs.
func helperRunSleep() {
	rb := &Runbook{Name: "slow", File: "inline", Actions: []Action{{Name: "sleep", Spec: Spec{Kind: KindExec, Argv: []string{"sleep", "60"}}, Danger: DangerLow, Category: "test"}}}
	now := time.Now
	ledger := &MemoryLedger{Now: now}
	audit := &Audit{Path: os.Getenv("AUDIT")}
	pl := &Planner{Ledger: ledger, Now: now}
	x := Executor{Audit: audit, Guard: &Guard{Ledger: ledger, Now: now}, Now: now, Wait: SleepWait, User: "helper", Host: "h"}
	p := pl.Plan(context.Background(), Matched{Runbook: rb, Name: rb.Name, Service: "svc"}, nil)
	x.Run(context.Background(), p, "test", false)
}

// helperRunPID runs an action that writes its PID to $PIDFILE and sleeps:
// the parent kills this process and looks for the action's.
func helperRunPID() {
	rb := &Runbook{Name: "slow", File: "inline", Actions: []Action{{Name: "sleep", Danger: DangerLow, Category: "test",
		Spec: Spec{Kind: KindExec, Argv: []string{"sh", "-c", `echo $$ > "$1"; exec sleep 60`, "_", os.Getenv("PIDFILE")}}}}}
	now := time.Now
	ledger := &MemoryLedger{Now: now}
	x := Executor{Audit: &Audit{Path: os.Getenv("AUDIT")}, Guard: &Guard{Ledger: ledger, Now: now}, Now: now, Wait: SleepWait, User: "helper", Host: "h"}
	p := (&Planner{Ledger: ledger, Now: now}).Plan(context.Background(), Matched{Runbook: rb, Name: rb.Name, Service: "svc"}, nil)
	x.Run(context.Background(), p, "test", false)
}

// helperLock claims the lock of $KEY on the Alertmanager at $AM at the
// instant $START, says how it went, and if it won holds the lock until
// its standard input closes: however late the other claimant starts, it
// meets the lock.
func helperLock() {
	am, err := alertmanager.New(os.Getenv("AM"), http.DefaultClient, sources.DefaultConventions())
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	g := &Guard{Ledger: SilenceLedger{Alerts: am}, Policy: RunPolicy{MaxConcurrent: 10}, Now: time.Now, Settle: 300 * time.Millisecond, Sleep: SleepWait}
	start, _ := time.Parse(time.RFC3339Nano, os.Getenv("START"))
	time.Sleep(time.Until(start))
	held, err := g.Acquire(context.Background(), Key{Action: "race/act", Target: os.Getenv("KEY")}, Guardrail{}, fmt.Sprintf("pid-%d", os.Getpid()), time.Minute, nil)
	if err != nil {
		fmt.Println("refused:", err)
		return
	}
	fmt.Println("won")
	_, _ = io.Copy(io.Discard, os.Stdin)
	held.Release()
}

// helperAppend appends $N entries to $AUDIT.
func helperAppend() {
	a := &Audit{Path: os.Getenv("AUDIT")}
	var n int
	fmt.Sscan(os.Getenv("N"), &n)
	for i := 0; i < n; i++ {
		_ = a.Append(Entry{ID: fmt.Sprintf("%d-%d", os.Getpid(), i), Phase: PhaseDecision, Time: time.Now(), User: "u", Result: strings.Repeat("x", 3000)})
	}
}

func helper(t *testing.T, part string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{"REMEDIATE_HELPER=" + part}, env...)...)
	return cmd
}

// startPiped starts a helper with its stdin and stdout piped to the test:
// the helper reports on stdout, and closing stdin lets it go.
func startPiped(t *testing.T, cmd *exec.Cmd) (io.WriteCloser, io.ReadCloser) {
	t.Helper()
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return in, out
}

// TestKillMidActionLeavesUnfinished SIGKILLs a process while its action
// runs: the before entry was fsynced and stays, shown as unfinished, and
// nothing is torn.
func TestKillMidActionLeavesUnfinished(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	cmd := helper(t, "run-sleep", "AUDIT="+path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 20*time.Second, func() bool {
		b, _ := os.ReadFile(path)
		return strings.Contains(string(b), `"phase":"before"`)
	})
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	rows, bad, err := (&Audit{Path: path}).Read()
	if err != nil || len(bad) != 0 {
		t.Fatalf("read: %v %v", err, bad)
	}
	if len(rows) != 1 || !rows[0].Unfinished || rows[0].After != nil || rows[0].Before.Command != "sleep 60" {
		t.Fatalf("rows %+v", rows)
	}
}

// TestActionDiesWithOncall: a kill -9 of oncall left its action running
// past its timeout and its lock's lease, so the next run overlapped it.
// The action now dies with oncall.
func TestActionDiesWithOncall(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "pid")
	cmd := helper(t, "run-pid", "AUDIT="+filepath.Join(dir, "audit.jsonl"), "PIDFILE="+pidfile)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	testenv.WaitFor(t, 20*time.Second, func() bool {
		b, _ := os.ReadFile(pidfile)
		_, err := fmt.Sscan(string(b), &pid)
		return err == nil && pid > 0
	})
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	testenv.WaitFor(t, 10*time.Second, func() bool {
		// gone, or a zombie waiting for init to reap it
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		return err != nil || strings.Contains(string(b), ") Z ")
	})
}

// TestConcurrentWritersNeverTear appends from four processes at once:
// every entry is whole and there.
func TestConcurrentWritersNeverTear(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := helper(t, "append", "AUDIT="+path, "N=200").CombinedOutput(); err != nil {
				t.Errorf("%v: %s", err, out)
			}
		}()
	}
	wg.Wait()
	rows, bad, err := (&Audit{Path: path}).Read()
	if err != nil || len(bad) != 0 || len(rows) != 800 {
		t.Fatalf("%d rows, %v, %v", len(rows), bad, err)
	}
}

// TestTwoProcessesRaceForOneLock: processes on different machines share
// the lock through Alertmanager. Two claim the same action on the same
// target at the same instant; exactly one runs. Three rounds, each on its
// own target.
func TestTwoProcessesRaceForOneLock(t *testing.T) {
	am := testenv.Alertmanager(t)
	for round := 0; round < 3; round++ {
		start := time.Now().Add(1500 * time.Millisecond).Format(time.RFC3339Nano)
		var outs [2]string
		var stdins [2]io.Closer
		var cmds [2]*exec.Cmd
		var wg sync.WaitGroup
		for i := range outs {
			cmds[i] = helper(t, "lock", "AM="+am, "START="+start, fmt.Sprintf("KEY=target-%d", round))
			in, out := startPiped(t, cmds[i])
			stdins[i] = in
			wg.Add(1)
			go func() {
				defer wg.Done()
				line, _ := bufio.NewReader(out).ReadString('\n')
				outs[i] = strings.TrimSpace(line)
			}()
		}
		// both have answered before the winner lets go
		wg.Wait()
		for i := range cmds {
			stdins[i].Close()
			if err := cmds[i].Wait(); err != nil {
				t.Errorf("helper: %v", err)
			}
		}
		won := 0
		for _, o := range outs {
			switch {
			case o == "won":
				won++
			case strings.HasPrefix(o, "refused: refused by lock: pid-"):
			default:
				t.Errorf("round %d: %q", round, o)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d won: %q", round, won, outs)
		}
	}
}

// TestAuditReadReportsTornLines: a line that is not an entry is named
// with its line, and the entries around it are kept.
func TestAuditReadReportsTornLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	a := &Audit{Path: path}
	_ = a.Append(Entry{ID: "1", Phase: PhaseBefore, Time: time.Now()})
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	_, _ = f.WriteString("{\"id\":\"2\",\"pha\n")
	f.Close()
	_ = a.Append(Entry{ID: "1", Phase: PhaseAfter, Time: time.Now()})
	rows, bad, err := a.Read()
	if err != nil || len(rows) != 1 || rows[0].Unfinished || len(bad) != 1 || !strings.Contains(bad[0].Error(), ":2: not an audit entry") {
		t.Fatalf("%+v %v %v", rows, bad, err)
	}
}
