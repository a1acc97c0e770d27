package sources

import "testing"

func TestNormalizeTraceID(t *testing.T) {
	ok := map[string]string{
		"a4c123b1612dd272d1371c17149d4395":   "a4c123b1612dd272d1371c17149d4395",
		"A4C123B1612DD272D1371C17149D4395":   "a4c123b1612dd272d1371c17149d4395",
		"pMEjsWEt0nLRNxwXFJ1DlQ==":           "a4c123b1612dd272d1371c17149d4395", // Tempo trace-by-ID JSON
		"1371c17149d4395":                    "000000000000000001371c17149d4395", // shortened hex
		" a4c123b1612dd272d1371c17149d4395 ": "a4c123b1612dd272d1371c17149d4395",
	}
	for in, want := range ok {
		if got, err := NormalizeTraceID(in); err != nil || got != want {
			t.Errorf("NormalizeTraceID(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "xyz", "a4c123b1612dd272d1371c17149d43950", "NrMhb9ruuXU="} {
		if got, err := NormalizeTraceID(bad); err == nil {
			t.Errorf("NormalizeTraceID(%q) = %q, want an error", bad, got)
		}
	}
	if got, err := NormalizeSpanID("NrMhb9ruuXU="); err != nil || got != "36b3216fdaeeb975" {
		t.Errorf("span ID from base64 = %q, %v", got, err)
	}
}

func FuzzNormalizeTraceID(f *testing.F) {
	f.Add("pMEjsWEt0nLRNxwXFJ1DlQ==")
	f.Add("a4c123b1612dd272d1371c17149d4395")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := NormalizeTraceID(s)
		if err != nil {
			return
		}
		if len(id) != 32 || !isHex(id) || id != toLower(id) {
			t.Fatalf("NormalizeTraceID(%q) = %q", s, id)
		}
		if again, _ := NormalizeTraceID(id); again != id {
			t.Fatalf("not idempotent: %q then %q", id, again)
		}
	})
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}
