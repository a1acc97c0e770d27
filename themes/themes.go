// Package themes holds the cockpit's palettes and the one Styles struct
// every view renders with. State is never told by colour alone: the views
// always print a symbol and a word too, so monochrome terminals, NO_COLOR
// and colour-blind readers lose nothing.
package themes

import (
	"fmt"
	"hash/fnv"
	"image/color"
	"os"
	"sort"
	"strings"

	"charm.land/lipgloss/v2"
	"go.yaml.in/yaml/v3"
)

// Palette is a theme's colours, as hex strings so a user can override them
// in YAML.
type Palette struct {
	Text    string `yaml:"text"`
	Muted   string `yaml:"muted"`
	Accent  string `yaml:"accent"`
	OK      string `yaml:"ok"`
	Warn    string `yaml:"warn"`
	Bad     string `yaml:"bad"`
	Border  string `yaml:"border"`
	Select  string `yaml:"select"`  // background of the selected row
	Heading string `yaml:"heading"` // panel titles
	// Series are the colours of things told apart by colour as well as by
	// name, such as the services of a trace waterfall.
	Series []string `yaml:"series"`
}

// Palettes are the built-in themes. colorblind uses the Okabe–Ito colours,
// which stay apart under the common colour-vision deficiencies.
var palettes = map[string]Palette{
	"dark": {Text: "#d8dee9", Muted: "#7b8394", Accent: "#88c0d0", OK: "#a3be8c", Warn: "#ebcb8b", Bad: "#bf616a", Border: "#4c566a", Select: "#3b4252", Heading: "#e5e9f0",
		Series: []string{"#88c0d0", "#a3be8c", "#b48ead", "#ebcb8b", "#81a1c1", "#d08770", "#8fbcbb", "#5e81ac"}},
	"light": {Text: "#2e3440", Muted: "#6b7280", Accent: "#005f87", OK: "#2e7d32", Warn: "#9a6700", Bad: "#b3261e", Border: "#c0c4cc", Select: "#e5e9f0", Heading: "#111827",
		Series: []string{"#005f87", "#2e7d32", "#6a3d9a", "#9a6700", "#1f4e99", "#a14a00", "#00796b", "#4a5568"}},
	"high-contrast": {Text: "#ffffff", Muted: "#c0c0c0", Accent: "#00ffff", OK: "#00ff00", Warn: "#ffff00", Bad: "#ff3030", Border: "#ffffff", Select: "#303030", Heading: "#ffffff",
		Series: []string{"#00ffff", "#ffffff", "#ff80ff", "#ffff00", "#80c0ff", "#ffa040", "#80ff80", "#c0c0c0"}},
	// Okabe–Ito's eight, in their published order
	"colorblind": {Text: "#e6e6e6", Muted: "#999999", Accent: "#56b4e9", OK: "#009e73", Warn: "#e69f00", Bad: "#d55e00", Border: "#666666", Select: "#333333", Heading: "#ffffff",
		Series: []string{"#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#bbbbbb"}},
}

// Names lists the built-in themes.
func Names() []string {
	out := make([]string, 0, len(palettes))
	for n := range palettes {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Load returns the named palette, with the non-empty fields of the YAML
// file at path (if any) laid over it.
func Load(name, path string) (Palette, error) {
	if name == "" {
		name = "dark"
	}
	p, ok := palettes[name]
	if !ok {
		return Palette{}, fmt.Errorf("theme %q: not one of %s", name, strings.Join(Names(), ", "))
	}
	if path == "" {
		return p, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Palette{}, fmt.Errorf("theme file: %w", err)
	}
	var over Palette
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&over); err != nil {
		return Palette{}, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	for _, f := range []struct{ dst, src *string }{{&p.Text, &over.Text}, {&p.Muted, &over.Muted}, {&p.Accent, &over.Accent}, {&p.OK, &over.OK},
		{&p.Warn, &over.Warn}, {&p.Bad, &over.Bad}, {&p.Border, &over.Border}, {&p.Select, &over.Select}, {&p.Heading, &over.Heading}} {
		if *f.src != "" {
			if !isHex(*f.src) {
				return Palette{}, fmt.Errorf("%s: %q is not a colour like #88c0d0", path, *f.src)
			}
			*f.dst = *f.src
		}
	}
	if len(over.Series) > 0 {
		for _, c := range over.Series {
			if !isHex(c) {
				return Palette{}, fmt.Errorf("%s: series: %q is not a colour like #88c0d0", path, c)
			}
		}
		p.Series = over.Series
	}
	return p, nil
}

func isHex(s string) bool {
	if len(s) != 7 || s[0] != '#' {
		return false
	}
	for _, c := range strings.ToLower(s[1:]) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Styles is every style the views use.
type Styles struct {
	Text, Muted, Accent, OK, Warn, Bad, Heading, Selected, Border lipgloss.Style
	Panel                                                         lipgloss.Style
	// Series tell apart things that have names, such as services; see
	// SeriesOf.
	Series []lipgloss.Style
}

// New builds the styles of a palette.
func New(p Palette) *Styles {
	c := func(s string) color.Color { return lipgloss.Color(s) }
	base := lipgloss.NewStyle().Foreground(c(p.Text))
	series := make([]lipgloss.Style, len(p.Series))
	for i, x := range p.Series {
		series[i] = lipgloss.NewStyle().Foreground(c(x))
	}
	return &Styles{
		Text:     base,
		Muted:    lipgloss.NewStyle().Foreground(c(p.Muted)),
		Accent:   lipgloss.NewStyle().Foreground(c(p.Accent)),
		OK:       lipgloss.NewStyle().Foreground(c(p.OK)),
		Warn:     lipgloss.NewStyle().Foreground(c(p.Warn)).Bold(true),
		Bad:      lipgloss.NewStyle().Foreground(c(p.Bad)).Bold(true),
		Heading:  lipgloss.NewStyle().Foreground(c(p.Heading)).Bold(true),
		Selected: lipgloss.NewStyle().Background(c(p.Select)).Bold(true),
		Border:   lipgloss.NewStyle().Foreground(c(p.Border)),
		Panel:    lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(c(p.Border)).Padding(0, 1),
		Series:   series,
	}
}

// SeriesOf is the series style of a name, stable across runs and themes:
// the same service keeps its colour wherever it is drawn.
func (s *Styles) SeriesOf(name string) lipgloss.Style {
	if len(s.Series) == 0 {
		return s.Text
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return s.Series[h.Sum32()%uint32(len(s.Series))]
}

// State renders a health state as a symbol and a word in its colour:
// "✓ ok", "! warn", "✗ bad".
func (s *Styles) State(level int, word string) string {
	switch level {
	case 0:
		return s.OK.Render("✓ " + word)
	case 1:
		return s.Warn.Render("! " + word)
	default:
		return s.Bad.Render("✗ " + word)
	}
}

// Level picks the style for a health level (0 ok, 1 warn, 2 bad).
func (s *Styles) Level(level int) lipgloss.Style {
	switch level {
	case 0:
		return s.OK
	case 1:
		return s.Warn
	default:
		return s.Bad
	}
}
