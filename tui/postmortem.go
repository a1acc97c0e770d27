package tui

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	tea "charm.land/bubbletea/v2"

	"github.com/oncall-cockpit/oncall/history"
)

// writeDraft writes a record's postmortem draft beside any earlier one
// in PostmortemDir (draftPostmortem) and flashes where it went: the
// command of P wherever a record is on screen, the history list, a
// record and the incident view.
func writeDraft(d Deps, id string) tea.Cmd {
	switch {
	case d.History == nil:
		return flash("no incident history: set history: in the config to write postmortems here")
	case d.PostmortemDir == "":
		return flash("no directory for postmortem drafts: oncall postmortem " + safe(id) + " prints it")
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), d.Timeout)
		defer cancel()
		path, err := draftPostmortem(ctx, d, id)
		if err != nil {
			return flashMsg("postmortem not written: " + safe(err.Error()))
		}
		return flashMsg("postmortem draft written to " + safe(path))
	}
}

// errNotAFileName is why a record's ID names no draft.
var errNotAFileName = errors.New("is not an ID oncall writes (inc- and 8 hex digits): a draft is named after its record, so none is written; oncall postmortem prints it")

// maxDrafts bounds the drafts of one record kept side by side: ID.md,
// ID-2.md, … Past it, people are asked to tidy up rather than oncall
// looking through thousands of names.
const maxDrafts = 100

// writeDraftFile writes a draft of record id into dir and returns its
// path. It never overwrites: a draft people have edited is theirs, so a
// new one goes beside it, id.md, else id-2.md, and so on. The text is
// written whole and synced to a temporary file in dir first, then
// linked into place (which fails if the name exists), so a crash or a
// full disk leaves no empty or partial draft under a draft's name. Only
// IDs shaped as oncall writes them (history.ValidID) name a file: a
// hand-written row's "../../x" must not write outside dir.
func writeDraftFile(dir, id, text string) (string, error) {
	if !history.ValidID(id) {
		return "", fmt.Errorf("record ID %s %w", strconv.QuoteToASCII(id), errNotAFileName)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("postmortem directory: %w", diskFull(dir, err))
	}
	tmp, err := os.CreateTemp(dir, "."+id+"-*.md.tmp") // 0600: a draft quotes the incident's evidence
	if err != nil {
		return "", fmt.Errorf("postmortem draft in %s: %w", dir, diskFull(dir, err))
	}
	defer os.Remove(tmp.Name()) // the draft's name stays; the temporary one goes
	_, err = tmp.WriteString(text)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("postmortem draft in %s: %w", dir, diskFull(dir, err))
	}
	for n := 1; n <= maxDrafts; n++ {
		name := id + ".md"
		if n > 1 {
			name = id + "-" + strconv.Itoa(n) + ".md"
		}
		path := filepath.Join(dir, name)
		switch err := os.Link(tmp.Name(), path); {
		case err == nil:
			return path, nil
		case !errors.Is(err, fs.ErrExist):
			return "", fmt.Errorf("postmortem draft %s: %w", path, diskFull(dir, err))
		}
	}
	return "", fmt.Errorf("%s already holds %d drafts of %s (%s.md to %s-%d.md): move some away to write another", dir, maxDrafts, id, id, id, maxDrafts)
}

// diskFull says so when err is a full disk: the system's own words
// ("no space left on device") do not say which disk.
func diskFull(dir string, err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("the disk holding %s is full: %w", dir, err)
	}
	return err
}
