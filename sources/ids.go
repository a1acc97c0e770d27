package sources

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// NormalizeTraceID returns a trace ID as 32 lowercase hex characters. It
// accepts hex of any case and up to 32 digits (left-padded with zeros, as
// Tempo and Jaeger shorten IDs), and the base64 of 16 bytes that Tempo's
// trace-by-ID JSON uses.
func NormalizeTraceID(id string) (string, error) { return normalizeID(id, 16) }

// NormalizeSpanID returns a span ID as 16 lowercase hex characters.
func NormalizeSpanID(id string) (string, error) { return normalizeID(id, 8) }

// HexID formats raw ID bytes as lowercase hex, the form every ID takes here.
func HexID(b []byte) string { return hex.EncodeToString(b) }

func normalizeID(id string, size int) (string, error) {
	s := strings.TrimSpace(id)
	if s == "" {
		return "", fmt.Errorf("empty ID")
	}
	if isHex(s) && len(s) <= size*2 {
		return strings.Repeat("0", size*2-len(s)) + strings.ToLower(s), nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == size {
		return hex.EncodeToString(b), nil
	}
	if b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "=")); err == nil && len(b) == size {
		return hex.EncodeToString(b), nil
	}
	return "", fmt.Errorf("ID %q is neither hex of at most %d digits nor base64 of %d bytes", s, size*2, size)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
