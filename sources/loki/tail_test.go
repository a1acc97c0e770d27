package loki

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/oncall-cockpit/oncall/internal/testenv"
	"github.com/oncall-cockpit/oncall/sources"
)

// A tail server that sends the recorded frames, drops the connection, and on
// the reconnect sends frame 2 again (which the client must not deliver
// twice) and then frame 3 and a dropped-entries report.
func TestTailReconnectsAndResumesWithoutDuplicates(t *testing.T) {
	f1, f2, f3 := testenv.Fixture(t, "loki_tail_frame_1.json"), testenv.Fixture(t, "loki_tail_frame_2.json"), testenv.Fixture(t, "loki_tail_frame_3.json")
	dropped := []byte(`{"streams":[],"dropped_entries":[{"labels":{"service_name":"payments"},"timestamp":"1795571864500000000"},{"labels":{"service_name":"payments"},"timestamp":"1795571864600000000"}]}`)
	var conns atomic.Int32
	starts := make(chan int64, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/loki/api/v1/tail" {
			http.NotFound(w, r)
			return
		}
		start, _ := strconv.ParseInt(r.URL.Query().Get("start"), 10, 64)
		starts <- start
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		ctx := r.Context()
		frames := [][]byte{f1, f2}
		if conns.Add(1) > 1 {
			frames = [][]byte{f2, f3, dropped}
		}
		for _, f := range frames {
			if err := conn.Write(ctx, websocket.MessageText, f); err != nil {
				return
			}
		}
		if conns.Load() == 1 {
			conn.CloseNow() // an abrupt drop, as a restarting Loki does
			return
		}
		<-ctx.Done()
	}))
	defer srv.Close()
	c, err := New(srv.URL, srv.Client(), sources.DefaultConventions())
	if err != nil {
		t.Fatal(err)
	}
	c.TailBackoffMin, c.TailBackoffMax = 10*time.Millisecond, 20*time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	from := time.Unix(0, 1795571860000000000)
	events, err := c.Tail(ctx, sources.LogQuery{Range: sources.TimeRange{Start: from}, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	var lines []sources.LogLine
	var reconnects, connects, droppedN int
	for ev := range events {
		lines = append(lines, ev.Lines...)
		droppedN += ev.Dropped
		if ev.Reconnecting != nil {
			reconnects++
		}
		if ev.Connected {
			connects++
		}
		if droppedN > 0 {
			cancel()
		}
	}
	if first := <-starts; first != from.UnixNano() {
		t.Errorf("first connection start=%d, want %d", first, from.UnixNano())
	}
	if second := <-starts; second != 1795571863431022545 {
		t.Errorf("reconnect start=%d, want the last delivered line's 1795571863431022545", second)
	}
	if connects != 2 || reconnects != 1 {
		t.Errorf("connects=%d reconnects=%d, want 2 and 1", connects, reconnects)
	}
	if len(lines) != 6 {
		t.Fatalf("got %d lines, want 6 (three frames of two, frame 2's repeat dropped)", len(lines))
	}
	if droppedN != 2 {
		t.Errorf("dropped=%d, want 2", droppedN)
	}
	// Live frames carry no trace_id label: the ID comes from the JSON field
	// or the traceID= text.
	wantIDs := []string{"db8d4ba05e1e667104e4b55553f6f15a", "db8d4ba05e1e667104e4b55553f6f15a",
		"8841edea32bf944a0ed7b414d1f5f8b0", "8841edea32bf944a0ed7b414d1f5f8b0",
		"330c7925d775c63ef2829d29fbb50bf4", "330c7925d775c63ef2829d29fbb50bf4"}
	for i, l := range lines {
		if l.TraceID != wantIDs[i] {
			t.Errorf("line %d %q: trace %q, want %q", i, l.Line, l.TraceID, wantIDs[i])
		}
		if i > 0 && l.T.Before(lines[i-1].T) {
			t.Errorf("line %d out of order", i)
		}
	}
}
