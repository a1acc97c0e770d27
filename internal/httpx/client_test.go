package httpx

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/internal/testenv"
)

// stallProofCooldown is a breaker cooldown longer than any stall of a
// loaded two-core machine under -race: a breaker a test has just opened
// is still open when the test looks, and the test then waits for the
// probe on a condition rather than sleeping out a short cooldown.
const stallProofCooldown = 2 * time.Second

func fast(o Options) Options {
	o.RetryWaitMin, o.RetryWaitMax = time.Millisecond, 5*time.Millisecond
	return o
}

func get(t *testing.T, c *http.Client, method, url string) (*http.Response, error) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader("q=up"))
	resp, err := c.Do(req)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

func TestRetriesIdempotentRequestsOn5xx(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	c, _ := NewClient(fast(Options{Backend: "t", Retries: 2}))
	resp, err := get(t, c, http.MethodGet, srv.URL)
	if err != nil || resp.StatusCode != 200 || n.Load() != 3 {
		t.Fatalf("status %v err %v after %d attempts; want 200 after 3", resp, err, n.Load())
	}
}

func TestRetriesGiveUpAndReturnTheLastAnswer(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Error(w, "overloaded", http.StatusBadGateway)
	}))
	defer srv.Close()
	c, _ := NewClient(fast(Options{Backend: "t", Retries: 2}))
	resp, err := get(t, c, http.MethodGet, srv.URL)
	if err != nil || resp.StatusCode != http.StatusBadGateway || n.Load() != 3 {
		t.Fatalf("resp %v err %v attempts %d; want the 502 after 3 attempts", resp, err, n.Load())
	}
}

func TestNoRetryForPOSTUnlessIdempotent(t *testing.T) {
	for _, idem := range []bool{false, true} {
		var n atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if string(body) != "q=up" {
				t.Errorf("attempt %d got body %q: a retry must resend the body", n.Load()+1, body)
			}
			n.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
		}))
		c, _ := NewClient(fast(Options{Backend: "t", Retries: 2, IdempotentPOST: idem}))
		get(t, c, http.MethodPost, srv.URL)
		want := int32(1)
		if idem {
			want = 3
		}
		if n.Load() != want {
			t.Errorf("IdempotentPOST=%v: %d attempts, want %d", idem, n.Load(), want)
		}
		srv.Close()
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	var first time.Time
	var gap time.Duration
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		gap = time.Since(first)
	}))
	defer srv.Close()
	c, _ := NewClient(Options{Backend: "t", RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Second})
	if _, err := get(t, c, http.MethodGet, srv.URL); err != nil {
		t.Fatal(err)
	}
	if gap < 900*time.Millisecond {
		t.Fatalf("retried after %v, want about the 1s Retry-After asked for", gap)
	}
}

func TestLongRetryAfterIsNotWaitedOut(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c, _ := NewClient(fast(Options{Backend: "t"}))
	resp, err := get(t, c, http.MethodGet, srv.URL)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests || n.Load() != 1 {
		t.Fatalf("resp %v err %v after %d attempts; want the 429 back at once", resp, err, n.Load())
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"7": 7 * time.Second, "Wed, 25 Nov 2026 03:00:30 GMT": 30 * time.Second, "Wed, 25 Nov 2026 02:00:00 GMT": 0,
	} {
		if got, ok := RetryAfter(v, now); !ok || got != want {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v", v, got, ok, want)
		}
	}
	if _, ok := RetryAfter("soon", now); ok {
		t.Error("RetryAfter(soon) accepted")
	}
}

func TestJitterBackoffStaysInBounds(t *testing.T) {
	seen := map[time.Duration]bool{}
	for attempt := range 50 {
		d := JitterBackoff(10*time.Millisecond, 200*time.Millisecond, attempt%6, nil)
		if d < 10*time.Millisecond || d > 200*time.Millisecond {
			t.Fatalf("attempt %d: %v out of [10ms, 200ms]", attempt, d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Fatalf("only %d distinct waits in 50: not jittered", len(seen))
	}
}

func TestBreakerOpensThenProbes(t *testing.T) {
	var n atomic.Int32
	var healthy atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if !healthy.Load() {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	c, _ := NewClient(fast(Options{Backend: "t", Retries: -1, BreakerFailures: 3, BreakerCooldown: stallProofCooldown}))
	for range 3 {
		if resp, err := get(t, c, http.MethodGet, srv.URL); err != nil || resp.StatusCode != 500 {
			t.Fatalf("want the 500 itself while closed, got %v %v", resp, err)
		}
	}
	_, err := get(t, c, http.MethodGet, srv.URL)
	if !errors.Is(err, ErrCircuitOpen) {
		t.Fatalf("after 3 failures: %v, want ErrCircuitOpen", err)
	}
	if n.Load() != 3 {
		t.Fatalf("the open breaker let a request through (%d sent)", n.Load())
	}
	healthy.Store(true)
	// nothing is sent until the cooldown ends; then one probe goes through
	testenv.WaitFor(t, 30*time.Second, func() bool {
		resp, err := get(t, c, http.MethodGet, srv.URL)
		if err != nil && !errors.Is(err, ErrCircuitOpen) {
			t.Fatalf("waiting for the half-open probe: %v", err)
		}
		return err == nil && resp.StatusCode == 200
	})
	if n.Load() != 4 {
		t.Fatalf("%d requests sent; want the 3 failures and one probe", n.Load())
	}
	if _, err := get(t, c, http.MethodGet, srv.URL); err != nil {
		t.Fatalf("closed again: %v", err)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	var inFlight, peak atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := inFlight.Add(1)
		for {
			p := peak.Load()
			if cur <= p || peak.CompareAndSwap(p, cur) {
				break
			}
		}
		// hold each request until the limit is reached, however slowly the
		// requests start on a busy machine; a lower limit shows as a peak
		// below 3 once the wait gives up
		for wait := time.Now().Add(10 * time.Second); peak.Load() < 3 && time.Now().Before(wait); {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		inFlight.Add(-1)
	}))
	defer srv.Close()
	c, _ := NewClient(Options{Backend: "t", MaxConcurrent: 3})
	var wg sync.WaitGroup
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := get(t, c, http.MethodGet, srv.URL); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if peak.Load() != 3 {
		t.Fatalf("peak in flight %d, want exactly the limit of 3", peak.Load())
	}
}

func TestCredentialsTenantAndHeaders(t *testing.T) {
	got := make(chan http.Header, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.Header.Clone() }))
	defer srv.Close()
	c, _ := NewClient(Options{Backend: "t", Username: "u", Password: "p", Tenant: "team-a", Headers: map[string]string{"X-Extra": "1"}})
	get(t, c, http.MethodGet, srv.URL)
	h := <-got
	if h.Get("Authorization") != "Basic dTpw" || h.Get("X-Scope-OrgID") != "team-a" || h.Get("X-Extra") != "1" {
		t.Fatalf("headers %v", h)
	}
	c, _ = NewClient(Options{Backend: "t", BearerToken: "tok"})
	get(t, c, http.MethodGet, srv.URL)
	if h := <-got; h.Get("Authorization") != "Bearer tok" {
		t.Fatalf("bearer header %q", h.Get("Authorization"))
	}
}

func TestTimeoutCoversTheWholeRequest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(time.Second):
		}
	}))
	defer srv.Close()
	c, _ := NewClient(Options{Backend: "t", Timeout: 100 * time.Millisecond})
	start := time.Now()
	_, err := get(t, c, http.MethodGet, srv.URL)
	if err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("err %v after %v; want a timeout near 100ms", err, time.Since(start))
	}
	if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "Timeout") {
		t.Fatalf("error %v does not say it timed out", err)
	}
}

func TestBadCAFileNamesBackend(t *testing.T) {
	_, err := NewClient(Options{Backend: "loki", CAFile: "/nonexistent/ca.pem"})
	if err == nil || !strings.Contains(err.Error(), "loki tls ca_file") {
		t.Fatalf("error %v", err)
	}
}

// TestCredentialsStayWithTheirHost: a redirect to another host is
// refused before any request reaches it, for GET and POST alike, so
// the credentials the client adds are never sent there.
func TestCredentialsStayWithTheirHost(t *testing.T) {
	var stolen atomic.Int32
	thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { stolen.Add(1) }))
	defer thief.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, thief.URL+"/steal", http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	c, _ := NewClient(fast(Options{Backend: "t", Username: "u", Password: "pw-secret", Headers: map[string]string{"X-Key": "hdr-secret"}}))
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		req, _ := http.NewRequest(method, redirector.URL+"/api", strings.NewReader("q=1"))
		_, err := c.Do(req)
		if err == nil || !strings.Contains(err.Error(), "credentials go to its own host only") {
			t.Errorf("%s: %v, want the redirect refused", method, err)
		}
	}
	if n := stolen.Load(); n != 0 {
		t.Errorf("the other host got %d requests", n)
	}
}

// TestErrorAnswersDoNotEchoCredentials: a backend (or a proxy) that
// echoes the request in an error answer has every credential scrubbed
// from the body, basic auth as sent (base64) included.
func TestErrorAnswersDoNotEchoCredentials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "auth=%s key=%s", r.Header.Get("Authorization"), r.Header.Get("X-Key"))
	}))
	defer srv.Close()
	c, _ := NewClient(fast(Options{Backend: "t", Retries: -1, Username: "user", Password: "pw-secret", Headers: map[string]string{"X-Key": "hdr-secret"}}))
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, secret := range []string{"pw-secret", "hdr-secret", base64.StdEncoding.EncodeToString([]byte("user:pw-secret"))} {
		if strings.Contains(string(body), secret) {
			t.Errorf("the answer holds %q: %s", secret, body)
		}
	}
	if !strings.Contains(string(body), "auth=Basic <redacted> key=<redacted>") {
		t.Errorf("body %q", body)
	}
}
