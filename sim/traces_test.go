package sim

import (
	"encoding/hex"
	"testing"
)

func TestSpanIDsAreHex(t *testing.T) {
	var id [16]byte
	for i := 0; i < 100; i++ {
		s := spanID(id, i)
		if _, err := hex.DecodeString(s); err != nil || len(s) != 16 {
			t.Fatal(s)
		}
	}
}
