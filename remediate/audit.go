package remediate

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/oncall-cockpit/oncall/correlate"
)

// Audit phases.
const (
	PhaseBefore   = "before"   // written and fsynced before the action runs
	PhaseAfter    = "after"    // its outcome
	PhaseDecision = "decision" // a proposal approved or rejected, an escalation sent
)

// Entry is one line of the audit log.
type Entry struct {
	ID    string    `json:"id"` // shared by an action's before and after
	Phase string    `json:"phase"`
	Time  time.Time `json:"time"`
	// DataTime is the data's clock at the action: the wall clock, except
	// in the simulator, whose incidents the action belongs to.
	DataTime time.Time  `json:"data_time,omitzero"`
	User     string     `json:"user"`
	Host     string     `json:"host"`
	Runbook  string     `json:"runbook,omitempty"`
	Action   string     `json:"action,omitempty"`
	Target   string     `json:"target,omitempty"`
	Kind     ActionKind `json:"kind,omitempty"`
	Command  string     `json:"command,omitempty"` // as shown: secrets as ‹secret:NAME›
	Incident string     `json:"incident,omitempty"`
	Approval string     `json:"approval,omitempty"` // who said yes, and how
	DryRun   bool       `json:"dry_run,omitempty"`

	ExitCode     *int   `json:"exit_code,omitempty"`
	OutputSHA256 string `json:"output_sha256,omitempty"`
	OutputBytes  int    `json:"output_bytes,omitempty"`
	DurationMS   int64  `json:"duration_ms,omitempty"`
	Verification string `json:"verification,omitempty"`
	Result       string `json:"result,omitempty"`
	Error        string `json:"error,omitempty"`
	// Detail is what a decision entry says beyond its result: why an
	// experiment ended as it did.
	Detail string `json:"detail,omitempty"`
	// Experiment ties the entry to one run of a chaos experiment.
	Experiment *ExperimentRef `json:"experiment,omitempty"`
}

// Audit is the append-only audit log: JSON lines, each written with one
// write(2) on a file opened O_APPEND and fsynced before the call returns,
// so concurrent writers never interleave and a crash loses no entry it
// reported written.
type Audit struct {
	Path string
}

// DefaultAuditPath is $XDG_DATA_HOME/oncall/audit.jsonl, ~/.local/share
// when unset.
func DefaultAuditPath(getenv func(string) string) string {
	return filepath.Join(DataDir(getenv), "audit.jsonl")
}

// DataDir is $XDG_DATA_HOME/oncall, ~/.local/share/oncall when unset.
func DataDir(getenv func(string) string) string {
	dir := getenv("XDG_DATA_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(dir, "oncall")
}

// NewID is a fresh entry ID.
func NewID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Append writes one entry and fsyncs it.
func (a *Audit) Append(e Entry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit log %s: %w", a.Path, err)
	}
	line = append(line, '\n')
	if err := os.MkdirAll(filepath.Dir(a.Path), 0o700); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	if err := a.regular(os.Stat(a.Path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(a.Path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	// again on the file opened: the path may have been swapped since
	if err := a.regular(f.Stat()); err != nil {
		f.Close()
		return err
	}
	if torn, err := endsTorn(f); err != nil {
		f.Close()
		return fmt.Errorf("audit log %s: %w", a.Path, err)
	} else if torn {
		// a write was cut (a full disk, a crash): this entry starts on a
		// line of its own, in the same write, or the torn line swallows it
		line = append([]byte{'\n'}, line...)
	}
	if _, err := f.Write(line); err != nil {
		f.Close()
		return fmt.Errorf("audit log %s: %w", a.Path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("audit log %s: fsync: %w", a.Path, err)
	}
	return f.Close()
}

// regular says why the audit log's path is not a regular file, or nil
// (the stat's own error, as is). A device (/dev/full, /dev/zero) never
// ends when read, and a FIFO blocks: neither is a log.
func (a *Audit) regular(st fs.FileInfo, err error) error {
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("audit log %s is not a regular file (%s): set audit_log to a file's path", a.Path, st.Mode().Type())
	}
	return nil
}

// endsTorn reports whether the file's last line has no end.
func endsTorn(f *os.File) (bool, error) {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 || !st.Mode().IsRegular() {
		return false, err
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, st.Size()-1); err != nil {
		return false, err
	}
	return last[0] != '\n', nil
}

// Row is one action as the log tells it: its before entry and, unless the
// process died in between, its after entry.
type Row struct {
	Before     Entry  `json:"before"`
	After      *Entry `json:"after,omitempty"`
	Unfinished bool   `json:"unfinished"`
}

// Read reads the log in order. A line that is not an entry (a torn write
// the file system did not keep whole, or an edit) is reported with its
// line number, and the lines after it are still read.
func (a *Audit) Read() ([]Row, []error, error) {
	// stat before opening: opening a FIFO to read blocks
	if err := a.regular(os.Stat(a.Path)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, nil
		}
		return nil, nil, err
	}
	f, err := os.Open(a.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("audit log: %w", err)
	}
	defer f.Close()
	if err := a.regular(f.Stat()); err != nil {
		return nil, nil, err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, nil, fmt.Errorf("audit log %s: %w", a.Path, err)
	}
	var rows []Row
	var bad []error
	index := map[string]int{}
	n := 0
	// lines of any length: one entry may carry a long command
	for rest := b; len(rest) > 0; {
		line, next, _ := bytes.Cut(rest, []byte{'\n'})
		rest = next
		n++
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil || e.ID == "" || e.Phase == "" {
			bad = append(bad, fmt.Errorf("%s:%d: not an audit entry", a.Path, n))
			continue
		}
		switch e.Phase {
		case PhaseAfter:
			if i, ok := index[e.ID]; ok {
				after := e
				rows[i].After, rows[i].Unfinished = &after, false
				continue
			}
			bad = append(bad, fmt.Errorf("%s:%d: an after entry without its before (%s)", a.Path, n, e.ID))
		case PhaseBefore:
			index[e.ID] = len(rows)
			rows = append(rows, Row{Before: e, Unfinished: true})
		default:
			rows = append(rows, Row{Before: e})
		}
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		bad = append(bad, fmt.Errorf("%s:%d: the last line has no end: a write was cut", a.Path, n))
	}
	return rows, bad, nil
}

// Timeline adds the audit log's actions within the incident's window to
// its timeline, in time order: what was done shows beside what happened.
func Timeline(inc *correlate.Incident, rows []Row) {
	if inc == nil {
		return
	}
	added := false
	for _, r := range rows {
		b := r.Before
		t := b.DataTime
		if t.IsZero() {
			t = b.Time
		}
		if b.Phase == PhaseDecision || t.Before(inc.Window.Start) || t.After(inc.Window.End) {
			continue
		}
		what := b.Runbook + "/" + b.Action + " by " + b.User + ": " + b.Command
		switch {
		case r.Unfinished:
			what += " (unfinished)"
		case r.After != nil:
			what += " → " + r.After.Result
		}
		inc.Timeline = append(inc.Timeline, correlate.Event{T: t, Kind: "action", Service: b.Target, Detail: what})
		added = true
	}
	if added {
		sort.SliceStable(inc.Timeline, func(i, j int) bool { return inc.Timeline[i].T.Before(inc.Timeline[j].T) })
	}
}
