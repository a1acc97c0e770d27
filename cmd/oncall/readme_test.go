package main

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sim"
	"github.com/oncall-cockpit/oncall/themes"
	"github.com/oncall-cockpit/oncall/tui"
)

var update = flag.Bool("update", false, "rewrite the README's and docs' example outputs, and add missing keys to the README's key table")

// The marks that put what the binary prints into the documentation: the
// fenced block right after one is the output of oncall with its arguments,
// or the cockpit's screen, and the tests below regenerate or check it.
const (
	outputMark  = "<!-- oncall-output: "
	cockpitMark = "<!-- oncall-cockpit: "
	keysMark    = "<!-- oncall-keys -->"
)

// documents are the README and the pages under docs/.
func documents(t *testing.T) []string {
	t.Helper()
	root := testenv.RepoRoot(t)
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{filepath.Join(root, "README.md")}, pages...)
}

// TestREADMEExamples holds every marked example of the README and docs/
// to what the binary prints now: the demo commands pin the simulator by
// --seed and --after, and the tests' clock pins the rest.
func TestREADMEExamples(t *testing.T) {
	marked := 0
	for _, path := range documents(t) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		lines := strings.Split(string(b), "\n")
		changed := false
		for i := 0; i < len(lines); i++ {
			args, kind := exampleMark(lines[i])
			if kind == "" {
				continue
			}
			marked++
			start, end, indent, ok := fencedBlock(lines, i+1)
			if !ok {
				t.Errorf("%s:%d: the mark is not followed by a fenced block", name, i+1)
				continue
			}
			var want string
			switch kind {
			case outputMark:
				want = exampleOutput(t, args)
			case cockpitMark:
				want = cockpitScreen(t, args)
			}
			got := unindent(lines[start:end], indent)
			if got == want {
				continue
			}
			if *update {
				lines = slices.Concat(lines[:start], indented(want, indent), lines[end:])
				changed = true
				continue
			}
			t.Errorf("%s:%d: the example of %q is not what the binary prints now (go test ./cmd/oncall -run TestREADMEExamples -update rewrites it):\n--- the document\n%s\n--- the binary\n%s", name, i+1, strings.Join(args, " "), got, want)
		}
		if changed {
			if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if marked < 5 {
		t.Errorf("%d marked examples: the README's screenshot and the docs' outputs are no longer checked", marked)
	}
}

// exampleMark reads a mark's arguments and kind; kind is "" for a line
// that is no mark.
func exampleMark(line string) ([]string, string) {
	for _, m := range []string{outputMark, cockpitMark} {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), m); ok {
			return strings.Fields(strings.TrimSuffix(rest, "-->")), m
		}
	}
	return nil, ""
}

// fencedBlock finds the code fence that starts at line from (indented,
// as in a list item, or not), and returns the span of its content and
// its indent.
func fencedBlock(lines []string, from int) (start, end int, indent string, ok bool) {
	if from >= len(lines) {
		return 0, 0, "", false
	}
	indent, fence, found := strings.Cut(lines[from], "```")
	if !found || strings.TrimSpace(indent) != "" || strings.Contains(fence, "`") {
		return 0, 0, "", false
	}
	for end = from + 1; end < len(lines); end++ {
		if lines[end] == indent+"```" {
			return from + 1, end, indent, true
		}
	}
	return 0, 0, "", false
}

// unindent is a block's content without the indent of its fence.
func unindent(lines []string, indent string) string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimPrefix(l, indent)
	}
	return strings.Join(out, "\n")
}

// indented is text as the lines of a block whose fence has indent.
func indented(text, indent string) []string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = indent + l
		}
	}
	return lines
}

// exampleOutput is what `oncall args...` prints, as the documents show
// it: standard output without its last newline.
func exampleOutput(t *testing.T, args []string) string {
	t.Helper()
	r := oncall(t, map[string]string{"XDG_DATA_HOME": t.TempDir(), "USER": "oncall"}, "", args...)
	if r.code != 0 {
		t.Fatalf("oncall %s: exit %d: %s", strings.Join(args, " "), r.code, r.err)
	}
	return strings.TrimSuffix(r.out, "\n")
}

// cockpitScreen is the cockpit as `oncall demo --scenario S --seed N`
// shows it --after into the incident at --size, after --keys (comma
// separated), with every panel loaded, as plain text.
func cockpitScreen(t *testing.T, args []string) string {
	t.Helper()
	fs := flag.NewFlagSet("oncall-cockpit", flag.ContinueOnError)
	scenario := fs.String("scenario", "retry-storm", "")
	seed := fs.Uint64("seed", 1, "")
	after := fs.Duration("after", 5*time.Minute, "")
	size := fs.String("size", "80x24", "")
	keys := fs.String("keys", "", "")
	var w, h int
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Sscanf(*size, "%dx%d", &w, &h); err != nil {
		t.Fatalf("--size %q: %v", *size, err)
	}
	fleet, err := sim.New(sim.Options{Scenario: *scenario, Seed: *seed})
	if err != nil {
		t.Fatal(err)
	}
	fleet.AdvanceTo(fleet.Onset().Add(*after))
	f := testFactory(map[string]string{"XDG_DATA_HOME": t.TempDir()})
	// the title demoCockpit gives, at the default speed
	title := fmt.Sprintf("demo: %s, seed %d, speed 1", *scenario, *seed)
	d := f.Deps(simWorld(f.env, fleet, title), title)
	wall := f.Now()
	// the cockpit's defaults; the fleet stands still, so a refresh redraws
	// the same screen
	d.Refresh, d.Timeout, d.Wall, d.AckFor, d.User, d.Zone = 2*time.Second, time.Minute, func() time.Time { return wall }, 30*time.Minute, "oncall", time.UTC
	pal, err := themes.Load("dark", "")
	if err != nil {
		t.Fatal(err)
	}
	c := &cockpit{t: t, app: tui.New(d, themes.New(pal)), msgs: make(chan tea.Msg, 64)}
	c.send(tea.WindowSizeMsg{Width: w, Height: h})
	c.run(c.app.Init())
	screen := c.settle("")
	for _, k := range strings.FieldsFunc(*keys, func(r rune) bool { return r == ',' }) {
		c.send(keyPress(k))
		screen = c.settle(screen)
	}
	return screen
}

// cockpit drives the real model in process, as tea.Program would, but
// stops when the screen is loaded instead of at a quit.
type cockpit struct {
	t    *testing.T
	app  *tui.App
	msgs chan tea.Msg
}

func (c *cockpit) send(m tea.Msg) {
	_, cmd := c.app.Update(m)
	c.run(cmd)
}

// run executes cmd aside, as the program does: its message comes back
// through msgs.
func (c *cockpit) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		switch m := cmd().(type) {
		case tea.BatchMsg:
			for _, cmd := range m {
				c.run(cmd)
			}
		case nil:
		default:
			c.msgs <- m
		}
	}()
}

// stillLoading are the screens' words for a load under way, and the
// dots of a service's sparklines not read yet.
var stillLoading = []string{"loading the fleet", "assembling", "diagnosing", "···"}

// settle feeds the messages back until the screen differs from before
// (a key's view has opened) and no panel is loading, and returns it.
func (c *cockpit) settle(before string) string {
	c.t.Helper()
	deadline := time.After(2 * time.Minute)
	for {
		screen := ansi.Strip(c.app.View().Content)
		if screen != before && !slices.ContainsFunc(stillLoading, func(s string) bool { return strings.Contains(screen, s) }) {
			return screen
		}
		select {
		case m := <-c.msgs:
			c.send(m)
		case <-deadline:
			c.t.Fatalf("in 2 minutes, the cockpit did not load or the key changed nothing:\n%s", screen)
		}
	}
}

// keyPress is the message of a key as a mark names it.
func keyPress(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

// TestREADMEKeyTable holds the README's key table to tui.DefaultKeyMap
// both ways: every enabled binding's help key is in its first column,
// and every key there is a binding's (or one of readmeOnlyKeys). -update
// adds a row for each binding missing, with the binding's own help.
func TestREADMEKeyTable(t *testing.T) {
	path := filepath.Join(testenv.RepoRoot(t), "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	i := slices.Index(lines, keysMark)
	if i < 0 {
		t.Fatalf("README.md has no %s before its key table", keysMark)
	}
	end := i + 1
	var keyCells []string
	for end < len(lines) && strings.HasPrefix(lines[end], "|") {
		keyCells = append(keyCells, firstCell(lines[end]))
		end++
	}
	known := maps.Clone(readmeOnlyKeys)
	for _, kb := range helpBindings(tui.DefaultKeyMap()) {
		known[kb.Help().Key] = "its help"
		for _, k := range kb.Keys() {
			known[k] = "its key"
		}
	}
	for _, cell := range keyCells {
		for _, k := range codeSpans(cell) {
			if _, ok := known[k]; !ok {
				t.Errorf("README.md's key table has `%s`, which no binding of tui.DefaultKeyMap has", k)
			}
		}
	}
	var missing []string
	for _, kb := range helpBindings(tui.DefaultKeyMap()) {
		h := kb.Help()
		if !slices.ContainsFunc(keyCells, func(c string) bool { return strings.Contains(c, "`"+h.Key+"`") }) {
			missing = append(missing, fmt.Sprintf("| `%s` | %s |", h.Key, h.Desc))
		}
	}
	if len(missing) == 0 {
		return
	}
	if !*update {
		t.Fatalf("README.md's key table lacks these bindings of tui.DefaultKeyMap (-update adds them):\n%s", strings.Join(missing, "\n"))
	}
	lines = slices.Concat(lines[:end], missing, lines[end:])
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readmeOnlyKeys are the keys the README's key table may name that are
// no binding of the key map, each with what it is instead.
var readmeOnlyKeys = map[string]string{
	":q": "the palette's quit command, as in k9s",
}

// firstCell is the first cell of a Markdown table's row, with its
// escaped pipes ("text\\|json") as plain ones.
func firstCell(row string) string {
	row = strings.ReplaceAll(strings.TrimPrefix(row, "|"), `\|`, "\x00")
	cell, _, _ := strings.Cut(row, "|")
	return strings.ReplaceAll(cell, "\x00", "|")
}

// codeSpans are the `code` spans of a line of Markdown, in order.
func codeSpans(line string) []string {
	var spans []string
	for i, part := range strings.Split(line, "`") {
		if i%2 == 1 {
			spans = append(spans, part)
		}
	}
	return spans
}

// helpBindings are the key map's enabled bindings that have help, in the
// order the key map declares them.
func helpBindings(km tui.KeyMap) []key.Binding {
	var bs []key.Binding
	v := reflect.ValueOf(km)
	for i := range v.NumField() {
		kb, ok := v.Field(i).Interface().(key.Binding)
		if ok && kb.Enabled() && kb.Help().Key != "" {
			bs = append(bs, kb)
		}
	}
	return bs
}

// TestREADMECommandTable: every command a newcomer can run has its line
// in the README's commands table, named exactly in the first column, and
// every command named there exists. A group that only lists its
// subcommands needs no line.
func TestREADMECommandTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "| `oncall") {
			continue
		}
		for _, c := range codeSpans(firstCell(l)) {
			if strings.HasPrefix(c, "oncall") {
				named[c] = true
			}
		}
	}
	root := documentedRoot()
	for name := range named {
		if c, _, err := root.Find(strings.Fields(name)[1:]); err != nil || c.CommandPath() != name {
			t.Errorf("README.md's commands table names `%s`, which is no command", name)
		}
	}
	for _, c := range commands(root) {
		if !named[c.CommandPath()] {
			t.Errorf("README.md's commands table has no line for `%s`", c.CommandPath())
		}
	}
}

// documentedRoot is the command tree as a user meets it, completion
// included (cobra adds it only when the program runs).
func documentedRoot() *cobra.Command {
	root := newRootCmd(testFactory(nil).env)
	root.InitDefaultCompletionCmd()
	return root
}

// commands are the commands a user can run under root, root excluded:
// not hidden, not help, not a group that only lists its subcommands
// ("oncall config"). Completion's per-shell commands are cobra's, its
// one line names them all.
func commands(root *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || !sub.IsAvailableCommand() || sub.Name() == "help" {
				continue
			}
			if !isGroup(sub) {
				out = append(out, sub)
			}
			if sub.Name() != "completion" {
				walk(sub)
			}
		}
	}
	walk(root)
	return out
}

// isGroup says whether c only gathers its subcommands: it has them, and
// no flag of its own ("oncall config" lists them; "oncall slo" lists
// budgets).
func isGroup(c *cobra.Command) bool {
	own := false
	c.LocalFlags().VisitAll(func(f *pflag.Flag) { own = own || f.Name != "help" })
	return c.HasSubCommands() && !own
}

// TestCommandsDocFlags holds docs/commands.md to its promise of every
// flag: each flag a command defines, unless hidden, is named in a row
// for that command (the row's command is the deepest one its first
// column names). The root's persistent flags are the page's "Global
// flags".
func TestCommandsDocFlags(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "docs", "commands.md"))
	if err != nil {
		t.Fatal(err)
	}
	root := documentedRoot()
	rows := map[*cobra.Command]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "| `oncall") {
			continue
		}
		for _, span := range codeSpans(firstCell(l)) {
			// "oncall slo [list] [--watch]" is a row of slo and of slo list
			without := regexp.MustCompile(`\[[^]]*\]`).ReplaceAllString(span, "")
			with := strings.NewReplacer("[", " ", "]", " ", "|", " ").Replace(span)
			for _, words := range [][]string{strings.Fields(without), strings.Fields(with)} {
				if c, _, err := root.Find(words[1:]); err == nil && !strings.Contains(rows[c], l) {
					rows[c] += l
				}
			}
		}
	}
	global := root.PersistentFlags()
	for _, c := range append([]*cobra.Command{root}, commands(root)...) {
		row, ok := rows[c]
		if !ok {
			t.Errorf("docs/commands.md has no row for `%s`", c.CommandPath())
			continue
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden || f.Name == "help" || global.Lookup(f.Name) == f {
				return
			}
			long := regexp.MustCompile(`(^|[^\w-])--` + regexp.QuoteMeta(f.Name) + `\b`)
			short := f.Shorthand != "" && regexp.MustCompile(`(^|[^\w-])-`+regexp.QuoteMeta(f.Shorthand)+`\b`).MatchString(row)
			if !long.MatchString(row) && !short {
				t.Errorf("docs/commands.md's row for `%s` does not name --%s", c.CommandPath(), f.Name)
			}
		})
	}
}

// No line of any command's long help is wider than 80 columns: --help is
// read in an 80-column terminal, and the man pages are made from it.
func TestHelpLongFitsEightyColumns(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for i, l := range strings.Split(c.Long, "\n") {
			if w := ansi.StringWidth(l); w > 80 {
				t.Errorf("`%s --help`, line %d of its Long, is %d columns:\n%s", c.CommandPath(), i+1, w, l)
			}
		}
		if c.Name() == "completion" {
			return // the per-shell commands' help is cobra's
		}
		for _, sub := range c.Commands() {
			if !sub.Hidden {
				walk(sub)
			}
		}
	}
	walk(documentedRoot())
}
