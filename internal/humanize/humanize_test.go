package humanize

import "testing"

func TestFormats(t *testing.T) {
	for got, want := range map[string]string{
		Percent(0.0002): "0.02%", Percent(0.969): "96.9%",
		Seconds(0.121): "121 ms", Seconds(5.14): "5.1 s", SecondsShort(13.12): "13.1s",
		Commas(556631.4): "556,631", Commas(-1234): "-1,234", Commas(999): "999", Commas(-0.2): "0",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestCount(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string
	}{{0, "0 services"}, {1, "1 service"}, {18, "18 services"}, {1500, "1,500 services"}} {
		if got := Count(c.n, "service"); got != c.want {
			t.Errorf("%d: %q", c.n, got)
		}
	}
	if got := Count(1, "entry point"); got != "1 entry point" {
		t.Error(got)
	}
}
