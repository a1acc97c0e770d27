package main

import (
	"encoding/json"
	"io"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/oncall-cockpit/oncall/internal/termsafe"
	"github.com/oncall-cockpit/oncall/sources"
)

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// table writes aligned columns. Every cell is made terminal-safe when it is
// added, since cells hold text from backends; style, when set, decorates a
// cell at render time and widths are measured without escape codes.
type table struct {
	rows  [][]string
	style func(col int, cell string) string
}

func newTable(header ...string) *table { return &table{rows: [][]string{header}} }

func (t *table) row(cells ...string) {
	for i, c := range cells {
		cells[i] = termsafe.Line(c)
	}
	t.rows = append(t.rows, cells)
}

func (t *table) render(w io.Writer) error {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], lipgloss.Width(c))
		}
	}
	var b strings.Builder
	for ri, r := range t.rows {
		for i, c := range r {
			pad := widths[i] - lipgloss.Width(c)
			if ri > 0 && t.style != nil {
				c = t.style(i, c)
			}
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", pad+2))
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// statusWord shows a check status with a symbol that reads without colour
// (colour-blind safe, NO_COLOR safe).
func statusWord(s sources.CheckStatus) string {
	switch s {
	case sources.CheckWarn:
		return "! warn"
	case sources.CheckFail:
		return "✗ FAIL"
	}
	return "✓ ok"
}

// colorStatus colours a statusWord cell; the symbol carries the meaning.
func colorStatus(cell string) string {
	c := "2"
	switch {
	case strings.HasPrefix(cell, "!"):
		c = "3"
	case strings.HasPrefix(cell, "✗"):
		c = "1"
	}
	return lipgloss.NewStyle().Foreground(lipgloss.Color(c)).Render(cell)
}
