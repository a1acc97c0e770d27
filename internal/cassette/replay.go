package cassette

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Replayer answers requests from a cassette, as its backend answered
// them when it was recorded.
type Replayer struct {
	backend string
	at      time.Time

	mu     sync.Mutex
	byKey  map[string][]Exchange // in recorded order
	served map[string]int
	misses []string
}

// NewReplayer returns a Replayer serving c, recorded for the incident at
// at (the case's --at; see Key).
func NewReplayer(c *Cassette, at time.Time) *Replayer {
	p := &Replayer{backend: c.Backend, at: at, byKey: map[string][]Exchange{}, served: map[string]int{}}
	for _, e := range c.Exchanges {
		p.byKey[e.key()] = append(p.byKey[e.key()], e)
	}
	return p
}

// ServeHTTP answers r with the recorded answer for its key. A key asked
// several times gets its answers in the order they were recorded, then
// the last one again: a retry or a second look sees what the backend
// answered the second time. A request with no recorded answer gets 500
// with a body naming its key, and is kept in Misses.
func (p *Replayer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "cassette replayer: reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	key := Exchange{Method: r.Method, Path: r.URL.Path, Query: Key(r, body, p.at)}.key()
	p.mu.Lock()
	answers := p.byKey[key]
	n := p.served[key]
	p.served[key] = n + 1
	if len(answers) == 0 && !slices.Contains(p.misses, key) {
		p.misses = append(p.misses, key)
	}
	p.mu.Unlock()
	if len(answers) == 0 {
		http.Error(w, fmt.Sprintf("cassette %s: no recorded answer for %s", p.backend, key), http.StatusInternalServerError)
		return
	}
	e := answers[min(n, len(answers)-1)]
	b, _ := e.body() // Load checked every body
	if e.ContentType != "" {
		w.Header().Set("Content-Type", e.ContentType)
	}
	w.WriteHeader(e.Status)
	_, _ = w.Write(b)
}

// Misses are the keys of the requests that had no recorded answer, each
// once, in the order they were first asked.
func (p *Replayer) Misses() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.misses)
}
