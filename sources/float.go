package sources

import (
	"encoding/json"
	"math"
	"strconv"
)

// Float is a number that may be undefined: NaN (or ±Inf) marshals as JSON
// null, and null unmarshals as NaN. An SLI with no traffic, or a burn
// rate over a window with no data, is undefined, not 0.
type Float float64

// NaN is the undefined Float.
func NaN() Float { return Float(math.NaN()) }

// Defined is false for NaN and ±Inf.
func (f Float) Defined() bool {
	return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0)
}

// MarshalJSON writes null for an undefined value.
func (f Float) MarshalJSON() ([]byte, error) {
	if !f.Defined() {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(f), 'g', -1, 64), nil
}

// UnmarshalJSON reads null as NaN.
func (f *Float) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = NaN()
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Float(v)
	return nil
}
