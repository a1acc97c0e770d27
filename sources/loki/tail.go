package loki

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"github.com/oncall-cockpit/oncall/sources"
)

// maxTailFrame bounds one WebSocket message; Loki batches lines per frame.
const maxTailFrame = 16 << 20

// Tail follows new lines over /loki/api/v1/tail. When the connection breaks
// it reports the error, waits a jittered, growing backoff and reconnects from
// just after the last line it delivered, so no line is delivered twice and
// none is skipped while Loki still holds it.
func (c *Client) Tail(ctx context.Context, q sources.LogQuery) (<-chan sources.TailEvent, error) {
	logql := c.Selector(q) + c.pipeline(q, false)
	start := q.Range.Start
	if start.IsZero() {
		start = c.Now()
	}
	// A WebSocket must not carry the request timeout of hc; the transport
	// (auth, tenant, TLS) is shared.
	wsClient := &http.Client{Transport: c.hc.Transport}
	out := make(chan sources.TailEvent, 16)
	t := &tailer{c: c, ws: wsClient, logql: logql, limit: q.Limit, from: start, out: out}
	go t.run(ctx)
	return out, nil
}

type tailer struct {
	c     *Client
	ws    *http.Client
	logql string
	limit int
	out   chan<- sources.TailEvent
	// from is where the next connection starts; atFrom holds lines already
	// delivered with exactly that timestamp, so a reconnect can skip them.
	from   time.Time
	atFrom map[string]bool
}

func (t *tailer) send(ctx context.Context, ev sources.TailEvent) bool {
	select {
	case t.out <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

func (t *tailer) run(ctx context.Context) {
	defer close(t.out)
	wait := t.c.TailBackoffMin
	for ctx.Err() == nil {
		delivered, err := t.connect(ctx)
		if ctx.Err() != nil {
			return
		}
		if delivered {
			wait = t.c.TailBackoffMin
		}
		if !t.send(ctx, sources.TailEvent{Reconnecting: err}) {
			return
		}
		sleep := wait/2 + rand.N(wait/2+1)
		wait = min(wait*2, t.c.TailBackoffMax)
		select {
		case <-time.After(sleep):
		case <-ctx.Done():
			return
		}
	}
}

// connect runs one WebSocket session; it reports whether any frame arrived.
func (t *tailer) connect(ctx context.Context) (bool, error) {
	p := t.c.rangeParams(t.logql, sources.TimeRange{Start: t.from, End: t.from})
	p.Del("end")
	if t.limit > 0 {
		p.Set("limit", strconv.Itoa(t.limit))
	}
	u := t.c.endpoint("/loki/api/v1/tail", p)
	conn, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: t.ws})
	if err != nil {
		be := &sources.BackendError{Backend: backend, Op: "tail " + t.logql, URL: "GET " + u, Err: err}
		if resp != nil {
			be.Status = resp.StatusCode
		}
		return false, be
	}
	defer conn.CloseNow()
	conn.SetReadLimit(maxTailFrame)
	if !t.send(ctx, sources.TailEvent{Connected: true}) {
		return false, ctx.Err()
	}
	delivered := false
	for {
		_, msg, err := conn.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) == websocket.StatusNormalClosure {
				err = errors.New("server closed the tail")
			}
			return delivered, &sources.BackendError{Backend: backend, Op: "tail " + t.logql, Err: err}
		}
		delivered = true
		lines, dropped, err := t.c.dec.TailFrame(msg)
		if err != nil {
			// Reconnecting resumes after the last good line, so nothing is lost.
			return delivered, &sources.BackendError{Backend: backend, Op: "tail " + t.logql, Err: fmt.Errorf("bad frame: %w", err)}
		}
		sortLines(lines, true)
		lines = t.fresh(lines)
		if len(lines) == 0 && dropped == 0 {
			continue
		}
		if !t.send(ctx, sources.TailEvent{Lines: lines, Dropped: dropped}) {
			return delivered, ctx.Err()
		}
	}
}

// fresh drops lines at or before the resume point that were already
// delivered, and moves the resume point forward.
func (t *tailer) fresh(lines []sources.LogLine) []sources.LogLine {
	out := lines[:0]
	for _, l := range lines {
		key := l.Service + "\x00" + l.Line
		switch {
		case l.T.Before(t.from):
			continue
		case l.T.Equal(t.from):
			if t.atFrom[key] {
				continue
			}
		default:
			t.from = l.T
			t.atFrom = map[string]bool{}
		}
		if t.atFrom == nil {
			t.atFrom = map[string]bool{}
		}
		t.atFrom[key] = true
		out = append(out, l)
	}
	return out
}
