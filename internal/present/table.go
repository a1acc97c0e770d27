package present

import (
	"io"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/oncall-cockpit/oncall/internal/termsafe"
)

// Table lays text out in aligned columns two spaces apart, as the
// shell's tables are. Every cell is made terminal-safe when it is added,
// since cells hold text from backends; widths are measured as a terminal
// draws them, so wide runes keep the columns straight.
type Table struct {
	rows [][]string
	// Style, when set, decorates a data cell as it is written (colour);
	// widths are measured on the cell without it.
	Style func(col int, cell string) string
}

// NewTable is a table whose first row is header.
func NewTable(header ...string) *Table { return &Table{rows: [][]string{header}} }

// Row adds a row of cells.
func (t *Table) Row(cells ...string) {
	for i, c := range cells {
		cells[i] = termsafe.Line(c)
	}
	t.rows = append(t.rows, cells)
}

// Render writes the rows, the last column unpadded.
func (t *Table) Render(w io.Writer) error {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], ansi.StringWidth(c))
		}
	}
	var b strings.Builder
	for ri, r := range t.rows {
		for i, c := range r {
			pad := widths[i] - ansi.StringWidth(c)
			if ri > 0 && t.Style != nil {
				c = t.Style(i, c)
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
