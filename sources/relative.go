package sources

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Relative applies a relative change ("+50%", "-2", "x2", "+3") to cur,
// as action parameters write it; a plain number is absolute.
func Relative(v string, cur int) (int, error) {
	v = strings.TrimSpace(v)
	switch {
	case IsAbsolute(v):
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("want a number, +N, -N, +N%% or xF")
		}
		return n, nil
	case strings.HasPrefix(v, "x"):
		f, err := strconv.ParseFloat(v[1:], 64)
		if err != nil || f <= 0 {
			return 0, fmt.Errorf("want a factor like x2")
		}
		return int(math.Round(float64(cur) * f)), nil
	case strings.HasSuffix(v, "%"):
		f, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
		if err != nil {
			return 0, fmt.Errorf("want a change like +50%%")
		}
		return int(math.Round(float64(cur) * (1 + f/100))), nil
	}
	d, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("want a number, +N, -N, +N%% or xF")
	}
	return cur + d, nil
}

// IsAbsolute reports whether a parameter names a value rather than a change.
func IsAbsolute(v string) bool {
	v = strings.TrimSpace(v)
	return !strings.HasPrefix(v, "+") && !strings.HasPrefix(v, "-") && !strings.HasPrefix(v, "x") && !strings.HasSuffix(v, "%")
}
