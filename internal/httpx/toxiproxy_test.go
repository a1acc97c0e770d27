package httpx

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/testenv"
)

// The client under real TCP faults from Toxiproxy: slow links hit the
// timeout, a refused backend trips the breaker, and resets are retried.
func TestUnderToxiproxyFaults(t *testing.T) {
	var served atomic.Int32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.Write([]byte("ok"))
	}))
	defer upstream.Close()
	tp := testenv.StartToxiproxy(t)
	addr := tp.Proxy("backend", strings.TrimPrefix(upstream.URL, "http://"))
	url := "http://" + addr + "/api"

	t.Run("latency beyond the timeout fails fast", func(t *testing.T) {
		c, _ := NewClient(Options{Backend: "slow", Timeout: 300 * time.Millisecond, Retries: -1})
		tp.AddToxic("backend", "slow", "latency", map[string]any{"latency": 3000})
		start := time.Now()
		_, err := get(t, c, http.MethodGet, url)
		// well under the 3 s latency, with room for a busy machine
		if err == nil || time.Since(start) > 2500*time.Millisecond {
			t.Fatalf("err %v after %v; want a timeout near 300ms", err, time.Since(start))
		}
		tp.RemoveToxic("backend", "slow")
		if resp, err := get(t, c, http.MethodGet, url); err != nil || resp.StatusCode != 200 {
			t.Fatalf("after the latency is gone: %v %v", resp, err)
		}
	})

	t.Run("resets are retried until the link heals", func(t *testing.T) {
		// retries enough to outlast a slow toxiproxy call on a busy machine
		c, _ := NewClient(Options{Backend: "reset", Retries: 30, RetryWaitMin: 100 * time.Millisecond, RetryWaitMax: 200 * time.Millisecond})
		tp.AddToxic("backend", "reset", "reset_peer", map[string]any{"timeout": 0})
		before := served.Load()
		type answer struct {
			resp *http.Response
			err  error
		}
		answered := make(chan answer, 1)
		go func() {
			resp, err := get(t, c, http.MethodGet, url)
			answered <- answer{resp, err}
		}()
		// heal the link once an attempt has been reset, not after a guess;
		// the retries above last about 5 s, so an attempt arrives well
		// within the bound or never
		testenv.WaitFor(t, 20*time.Second, func() bool { return served.Load() != before })
		tp.RemoveToxic("backend", "reset")
		a := <-answered
		resp, err := a.resp, a.err
		// Downstream resets happen after the upstream served the request, so
		// each reset attempt reached it: success needs at least one retry.
		if err != nil || resp.StatusCode != 200 || served.Load() < before+2 {
			t.Fatalf("resp %v err %v served %d; want success after at least one reset attempt", resp, err, served.Load()-before)
		}
	})

	t.Run("a refusing backend opens the breaker, which lets a probe through later", func(t *testing.T) {
		c, _ := NewClient(fast(Options{Backend: "down", Retries: -1, BreakerFailures: 3, BreakerCooldown: stallProofCooldown}))
		tp.SetEnabled("backend", false)
		for i := range 3 {
			if _, err := get(t, c, http.MethodGet, url); err == nil || errors.Is(err, ErrCircuitOpen) {
				t.Fatalf("attempt %d: %v, want a connection error", i, err)
			}
		}
		// ErrCircuitOpen is the breaker refusing without dialling: no clock needed
		if _, err := get(t, c, http.MethodGet, url); !errors.Is(err, ErrCircuitOpen) {
			t.Fatalf("%v; want ErrCircuitOpen", err)
		}
		tp.SetEnabled("backend", true)
		testenv.WaitFor(t, 30*time.Second, func() bool {
			resp, err := get(t, c, http.MethodGet, url)
			if err != nil && !errors.Is(err, ErrCircuitOpen) {
				t.Fatalf("probe after cooldown: %v", err)
			}
			return err == nil && resp.StatusCode == 200
		})
	})
}
