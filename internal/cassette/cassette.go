// Package cassette records what a real backend (Prometheus, Loki, Tempo)
// answered to oncall's adapters, and replays it, so CI can run the built
// binary on a recorded incident without the servers. A Recorder is a
// reverse proxy that writes every exchange down; a Replayer answers each
// request with the recorded answer for the same canonical key. Only tests
// and the trial fleet's recorder import this package; it imports nothing
// of oncall's, so the sources' adapters stay unaware of it.
package cassette

import (
	"bufio"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Ext is a cassette file's extension: JSON lines, gzipped, since a
// Loki or Tempo answer repeats the same labels and attributes many times.
const Ext = ".jsonl.gz"

// Path is where the cassette of backend lives in a recording directory.
func Path(dir, backend string) string {
	return filepath.Join(dir, backend+Ext)
}

// Exchange is one request and the answer it got. Request headers are
// not kept, so no Authorization, cookie or tenant header is ever written
// down; of the answer's headers only the content type is, which is all
// the adapters read.
type Exchange struct {
	Method      string `json:"method"`
	Path        string `json:"path"`
	Query       string `json:"query"` // canonical: see Key
	Status      int    `json:"status"`
	ContentType string `json:"content_type,omitempty"`
	Body        string `json:"body,omitempty"`
	// Base64 says Body is base64, for answers that are not UTF-8 text,
	// such as Tempo's protobuf traces
	Base64 bool `json:"base64,omitempty"`
}

// key is what a replay matches an exchange by.
func (e Exchange) key() string { return e.Method + " " + e.Path + "?" + e.Query }

// body decodes the recorded body.
func (e Exchange) body() ([]byte, error) {
	if e.Base64 {
		return base64.StdEncoding.DecodeString(e.Body)
	}
	return []byte(e.Body), nil
}

// setBody keeps b as text when it is UTF-8, else as base64.
func (e *Exchange) setBody(b []byte) {
	if utf8.Valid(b) {
		e.Body, e.Base64 = string(b), false
		return
	}
	e.Body, e.Base64 = base64.StdEncoding.EncodeToString(b), true
}

// Key is the canonical form of a request's parameters: those of the URL
// and, for a POST form (Prometheus's client sends its queries so), those
// of the body, merged, each name's values sorted, names sorted. Sorting
// the values is safe because oncall never repeats a parameter whose
// order matters (match[] is a set), and it makes a key independent of the
// order a client happened to add them in.
//
// at is the --at of the incident recorded. Every range oncall sends
// ends at or before it, so the same --at sends the same keys, with one
// exception: an instant query's "time" after at was read from oncall's
// clock (checking --service asks Prometheus which services report now),
// and is keyed as "now", else no replay would ever match it. Nothing else
// is rewritten: a query that changes must miss rather than be answered
// with what was recorded for another.
func Key(r *http.Request, body []byte, at time.Time) string {
	params := r.URL.Query()
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		form, err := url.ParseQuery(string(body))
		if err == nil {
			for k, vs := range form {
				params[k] = append(params[k], vs...)
			}
		}
	}
	for i, v := range params["time"] {
		if t, ok := promTime(v); ok && t.After(at) {
			params["time"][i] = "now"
		}
	}
	for _, vs := range params {
		sort.Strings(vs)
	}
	return params.Encode() // sorts the names
}

// promTime parses a time as Prometheus's API takes it: Unix seconds with
// a fraction, as its Go client sends it, or RFC 3339. A number of more
// than 11 digits is Loki's nanoseconds, not seconds, and is left alone.
func promTime(v string) (time.Time, bool) {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f >= 1e11 {
			return time.Time{}, false
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)), true
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	return t, err == nil
}

// Cassette is every exchange with one backend, in the order the answers
// were recorded.
type Cassette struct {
	Backend   string
	Exchanges []Exchange
}

// Save writes the cassette to path as gzipped JSON lines, one exchange a
// line.
func (c *Cassette) Save(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(f)
	// the header's time stays zero so that re-recording the same answers
	// gives the same bytes, and a diff shows only what changed
	zw.ModTime = time.Time{}
	enc := json.NewEncoder(zw)
	enc.SetEscapeHTML(false)
	for _, e := range c.Exchanges {
		if err := enc.Encode(e); err != nil {
			f.Close()
			return fmt.Errorf("cassette %s: %w", path, err)
		}
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return fmt.Errorf("cassette %s: %w", path, err)
	}
	return f.Close()
}

// Load reads the cassette at path; its backend is the file's name
// without Ext. A line that does not parse is an error naming the line.
func Load(path string) (*Cassette, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("cassette %s: %w", path, err)
	}
	c := &Cassette{Backend: strings.TrimSuffix(filepath.Base(path), Ext)}
	sc := bufio.NewScanner(zr)
	// one line is one answer, and a Loki answer of 5,000 lines is megabytes
	sc.Buffer(nil, 256<<20)
	for line := 1; sc.Scan(); line++ {
		var e Exchange
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("cassette %s line %d: %w", path, line, err)
		}
		if _, err := e.body(); err != nil {
			return nil, fmt.Errorf("cassette %s line %d: body: %w", path, line, err)
		}
		c.Exchanges = append(c.Exchanges, e)
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("cassette %s: %w", path, err)
	}
	return c, nil
}

// CaseFile is the name of a recording directory's description of the
// incident recorded in it.
const CaseFile = "case.json"

// Case is a recording directory's case.json: the incident the trial
// fleet caused while the cassettes were recorded, and what the diagnosis
// must find when it is replayed.
type Case struct {
	Class   string    `json:"class"`   // the fault class, e.g. "slow-db-behind-pool"
	Root    string    `json:"root"`    // the service at fault
	At      time.Time `json:"at"`      // the --at oncall was run with
	Service string    `json:"service"` // the --service oncall was run with
	// BlastRadius lists the services the fault hurt, as the fleet measured
	BlastRadius []string `json:"blast_radius"`
}

// ReadCase reads dir's case.json, refusing one that lacks what a replay
// needs.
func ReadCase(dir string) (Case, error) {
	path := filepath.Join(dir, CaseFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return Case{}, err
	}
	var c Case
	if err := json.Unmarshal(b, &c); err != nil {
		return Case{}, fmt.Errorf("%s: %w", path, err)
	}
	if c.Root == "" || c.At.IsZero() {
		return Case{}, fmt.Errorf("%s: root and at are required", path)
	}
	return c, nil
}

// WriteCase writes c as dir's case.json.
func WriteCase(dir string, c Case) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, CaseFile), append(b, '\n'), 0o644)
}
