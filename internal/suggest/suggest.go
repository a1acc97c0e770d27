// Package suggest finds the known names close to a mistyped one, for the
// "did you mean" of config keys and values, services and flags. It
// imports nothing of this module.
package suggest

import (
	"sort"
	"strings"
)

// maxEdits is how many edits away a name may be and still be suggested:
// two catch a swapped or dropped letter without suggesting unrelated
// short names.
const maxEdits = 2

// maxShown bounds the suggestions, so a message stays one line.
const maxShown = 3

// minAbbrev is how long a name must be to be read as an abbreviation of
// a longer one (user-prefs-api for user-preferences-api): shorter ones
// are spelled out in too many names to point at one.
const minAbbrev = 4

// Near returns the candidates close to s, closest first: within maxEdits
// edits (ignoring case), then those that contain s or that s contains,
// or that s abbreviates (its letters in order, from the same first one).
func Near(s string, candidates []string) []string {
	type hit struct {
		name string
		d    int
	}
	ls := strings.ToLower(s)
	var hits []hit
	for _, c := range candidates {
		lc := strings.ToLower(c)
		switch d := distance(ls, lc); {
		case c == s:
		case d <= maxEdits:
			hits = append(hits, hit{c, d})
		case ls != "" && (strings.Contains(lc, ls) || strings.Contains(ls, lc) || abbreviates(ls, lc)):
			hits = append(hits, hit{c, maxEdits + 1})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].d != hits[j].d {
			return hits[i].d < hits[j].d
		}
		return hits[i].name < hits[j].name
	})
	var out []string
	for i := 0; i < len(hits) && i < maxShown; i++ {
		out = append(out, hits[i].name)
	}
	return out
}

// DidYouMean is ` (did you mean "a" or "b"?)` for the names near s, or "".
func DidYouMean(s string, candidates []string) string {
	near := Near(s, candidates)
	if len(near) == 0 {
		return ""
	}
	q := make([]string, len(near))
	for i, n := range near {
		q[i] = `"` + n + `"`
	}
	return " (did you mean " + strings.Join(q, " or ") + "?)"
}

// abbreviates is whether s, at least minAbbrev long, is c with letters
// left out: c's first letter, then the rest of s in c's order.
func abbreviates(s, c string) bool {
	if len(s) < minAbbrev || len(s) >= len(c) || s[0] != c[0] {
		return false
	}
	i := 0
	for j := 0; j < len(c) && i < len(s); j++ {
		if s[i] == c[j] {
			i++
		}
	}
	return i == len(s)
}

// distance is the Levenshtein distance between a and b, in bytes.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
