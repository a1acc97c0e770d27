package remediate

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// send sends a request; its errors never show a credential of the URL.
func send(ctx context.Context, c *http.Client, r *Request) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, strings.NewReader(r.Body))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %s", r.Method, redactURL(r.URL), redactURL(err.Error()))
	}
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %s", r.Method, redactURL(r.URL), redactURL(unwrapURLError(err)))
	}
	return resp, nil
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
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %s", r.Method, redactURL(r.URL), resp.Status)
	}
	return 0, nil
}

func unwrapURLError(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}
