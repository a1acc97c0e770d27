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
		if err == nil || time.Since(start) > 1500*time.Millisecond {
			t.Fatalf("err %v after %v; want a timeout near 300ms", err, time.Since(start))
		}
		tp.RemoveToxic("backend", "slow")
		if resp, err := get(t, c, http.MethodGet, url); err != nil || resp.StatusCode != 200 {
			t.Fatalf("after the latency is gone: %v %v", resp, err)
		}
	})

	t.Run("resets are retried until the link heals", func(t *testing.T) {
		c, _ := NewClient(Options{Backend: "reset", Retries: 6, RetryWaitMin: 100 * time.Millisecond, RetryWaitMax: 200 * time.Millisecond})
		tp.AddToxic("backend", "reset", "reset_peer", map[string]any{"timeout": 0})
		healed := make(chan struct{})
		go func() {
			time.Sleep(250 * time.Millisecond)
			tp.RemoveToxic("backend", "reset")
			close(healed)
		}()
		before := served.Load()
		resp, err := get(t, c, http.MethodGet, url)
		<-healed
		// Downstream resets happen after the upstream served the request, so
		// each reset attempt reached it: success needs at least one retry.
		if err != nil || resp.StatusCode != 200 || served.Load() < before+2 {
			t.Fatalf("resp %v err %v served %d; want success after at least one reset attempt", resp, err, served.Load()-before)
		}
	})

	t.Run("a refusing backend opens the breaker, which lets a probe through later", func(t *testing.T) {
		c, _ := NewClient(fast(Options{Backend: "down", Retries: -1, BreakerFailures: 3, BreakerCooldown: 300 * time.Millisecond}))
		tp.SetEnabled("backend", false)
		for i := range 3 {
			if _, err := get(t, c, http.MethodGet, url); err == nil || errors.Is(err, ErrCircuitOpen) {
				t.Fatalf("attempt %d: %v, want a connection error", i, err)
			}
		}
		start := time.Now()
		if _, err := get(t, c, http.MethodGet, url); !errors.Is(err, ErrCircuitOpen) || time.Since(start) > 50*time.Millisecond {
			t.Fatalf("%v after %v; want ErrCircuitOpen at once", err, time.Since(start))
		}
		tp.SetEnabled("backend", true)
		time.Sleep(350 * time.Millisecond)
		if resp, err := get(t, c, http.MethodGet, url); err != nil || resp.StatusCode != 200 {
			t.Fatalf("probe after cooldown: %v %v", resp, err)
		}
	})
}
