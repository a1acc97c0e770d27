package grafana

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// TestAGrafanaThatIgnoresWhatWasAskedIsHeldToIt: a server that answers
// more annotations than the limit, or annotations outside the range (year
// 1, or a time in exponent form far ahead), or a 10,000-character version
// tag, does not flood the timeline.
func TestAGrafanaThatIgnoresWhatWasAskedIsHeldToIt(t *testing.T) {
	r := sources.TimeRange{Start: time.Unix(1772355000, 0), End: time.Unix(1772356000, 0)}
	var as []string
	for i := range 30 {
		as = append(as, fmt.Sprintf(`{"id":%d,"time":%d,"text":"deploy","tags":["deploy","service:s%d"]}`, i, r.Start.UnixMilli()+int64(i), i))
	}
	as = append(as, `{"id":100,"time":-62135596800000,"text":"year one","tags":["deploy","service:old"]}`,
		`{"id":102,"time":9e+18,"text":"far future","tags":["deploy","service:old"]}`,
		fmt.Sprintf(`{"id":101,"time":%d,"text":"deploy","tags":["deploy","service:long","version:%s"]}`, r.Start.UnixMilli(), strings.Repeat("A", 10000)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "["+strings.Join(as, ",")+"]")
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, srv.Client(), Options{Limit: 40})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Changes(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 31 {
		t.Errorf("%d changes; want the 31 in range", len(got))
	}
	for _, ch := range got {
		if ch.Service == "old" {
			t.Errorf("an annotation outside the range was kept: %+v", ch)
		}
		if n := len([]rune(ch.Version)); n > sources.MaxVersionText {
			t.Errorf("a version of %d runes", n)
		}
	}
	c, err = New(srv.URL, srv.Client(), Options{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Changes(context.Background(), r); err != nil || len(got) != 10 {
		t.Errorf("%d changes, %v; want the limit's 10", len(got), err)
	}
}
