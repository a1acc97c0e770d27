package remediate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/oncall-cockpit/oncall/internal/termsafe"
)

// send sends a request and does not follow redirects: a redirect would
// carry the request's credentials (an X-Api-Key header, a token in the
// path) to wherever the server points. Its errors never show the URL,
// which may hold secrets: the caller shows the request in its display
// form.
func send(ctx context.Context, c *http.Client, r *Request) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, strings.NewReader(r.Body))
	if err != nil {
		return nil, fmt.Errorf("the request: %s", unwrapURLError(err))
	}
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	if c == nil {
		c = http.DefaultClient
	}
	once := *c // the caller's client, its transport shared, its redirect policy not
	once.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := once.Do(req)
	if err != nil {
		return nil, errors.New(unwrapURLError(err))
	}
	return resp, nil
}

// statusError says why a response is not a success: its status and, for a
// redirect, where it pointed, with its credentials redacted.
func statusError(resp *http.Response) error {
	if resp.StatusCode/100 == 2 {
		return nil
	}
	if loc, err := resp.Location(); err == nil && resp.StatusCode/100 == 3 {
		return fmt.Errorf("HTTP %s, to %s: not followed, so that no credential goes to another place", resp.Status, termsafe.Line(redactURL(loc.String())))
	}
	return fmt.Errorf("HTTP %s", resp.Status)
}

func (x *Executor) doHTTP(ctx context.Context, r *Request, w io.Writer) (int, error) {
	resp, err := send(ctx, x.HTTP, r)
	if err != nil {
		return -1, err
	}
	defer resp.Body.Close()
	fmt.Fprintf(w, "%s\n", resp.Status)
	sc := bufio.NewScanner(io.LimitReader(resp.Body, maxResponseKept))
	for sc.Scan() {
		fmt.Fprintf(w, "%s\n", sc.Text())
	}
	if err := statusError(resp); err != nil {
		return resp.StatusCode, err
	}
	return 0, nil
}

// unwrapURLError is the last part of a request's error, the one without
// the URL: "connection refused", "context deadline exceeded".
func unwrapURLError(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}
