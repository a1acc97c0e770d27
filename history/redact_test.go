package history

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/oncall-cockpit/oncall/sources"
)

// leak is in every secret of these tests and nowhere else.
const leak = "hunter2"

// hostileSecrets are the secrets an attacker put in a record's every
// text: each must be gone from anything oncall shows.
var hostileSecrets = []string{
	"password=" + leak,
	"REDpassword=" + leak,
	"DB_PASSWORD=" + leak,
	"PGPASSWORD=" + leak,
	"AWS_SECRET_ACCESS_KEY=" + leak,
	"X-Api-Key: " + leak,
	"X-Auth-Token: " + leak,
	"--password " + leak,
	"kubectl --token=sk-LIVE-" + leak,
	"curl -u admin:" + leak + " https://x",
	"https://api.example/v1?access_token=" + leak + "&v=1",
	"Authorization: Bearer sk-LIVE-" + leak + "xyz",
	"Bearer " + leak + "abcdefgh",
	"Authorization: Basic aHVudGVyMg==",
	"Cookie: session=" + leak + "; theme=dark",
	"mysql://root:" + leak + "@db:3306/app",
	`{"client_secret": "` + leak + `"}`,
	"MYSQL_PWD=" + leak,
	"passwd " + leak,
	"mysql -uroot -p" + leak + " app",
	"mysqldump -h db -p'" + leak + "' app",
}

func TestRedactHidesEverySecretShape(t *testing.T) {
	for _, s := range hostileSecrets {
		got := Redact("before " + s + " after")
		if strings.Contains(got, leak) {
			t.Errorf("Redact(%q) = %q", s, got)
		}
		if Redact(got) != got {
			t.Errorf("Redact is not idempotent on %q: %q", got, Redact(got))
		}
	}
}

func TestRedactKeepsWhatIsNotSecret(t *testing.T) {
	for _, s := range []string{
		"kubectl --token=‹secret:KUBE_TOKEN› rollout restart deploy/checkout",
		"payment-token: checkout errors at 12%",
		"design=blue author=alice signal=SIGTERM",
		"HighErrorRate on checkout-api, root user-preferences-api",
		`rate(http_requests_total{service="checkout",code=~"5.."}[1m])`,
		"sort -u names.txt",
		"basic functionality broke; the token refresh-failures alert fired",
		"X-Api-Key: ‹secret:API_KEY›",
		"the password reset page is down",
		"ssh -p 2222 bastion; docker run -p8080:80 web",
	} {
		if got := Redact(s); got != s {
			t.Errorf("Redact(%q) = %q, want it unchanged", s, got)
		}
	}
}

// secretRecord is a record with a secret in every text it holds.
func secretRecord() Record {
	sec := func(i int) string { return hostileSecrets[i%len(hostileSecrets)] }
	r := handBuilt()
	r.Title += " " + sec(0)
	r.Summary = sec(1)
	r.Root = "db " + sec(2)
	r.Mechanism = sec(3)
	r.Onset.Source = "onset " + sec(4)
	r.Detected.Source = sec(5)
	r.Resolved.Source = sec(6)
	r.Alerts[0].Source += " " + sec(7)
	r.Alerts[0].Labels = sources.Labels{"token": leak, "instance": sec(8), "api_key_id": leak}
	r.Acks = append(r.Acks, Ack{T: r.Detected.T, By: "alice " + sec(9), Silence: "s1", Source: sec(10)})
	r.Actions[0].Command = "kubectl --token=sk-LIVE-" + leak + " rollout restart"
	r.Actions[0].User = sec(11)
	r.Actions[1].Result = "failed: " + sec(12)
	r.Notes = append(r.Notes, Note{T: r.Detected.T, By: "bob", Text: sec(13)})
	r.Snapshots = append(r.Snapshots, Snapshot{T: r.Detected.T, Summary: sec(14)})
	r.Incident.Summary += " " + sec(0)
	r.Incident.Chain[0].What += " " + sec(1)
	r.Incident.Chain[0].Evidence = append(r.Incident.Chain[0].Evidence, sec(2))
	r.Incident.Candidates[0].Reasons[1].Lines[0] += " " + sec(3)
	r.Incident.Mechanisms[0].Detail += " " + sec(4)
	r.Incident.Notes = append(r.Incident.Notes, sec(5))
	return r
}

func TestRedactedRecordHoldsNoSecret(t *testing.T) {
	r := secretRecord()
	inc := r.Incident
	before, _ := json.Marshal(inc)
	got := Redacted(r)
	js, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(js), leak) {
		t.Errorf("the redacted record holds the secret: %s", lines(string(js), leak))
	}
	if got.Alerts[0].Labels["token"] != redacted || got.Alerts[0].Labels["api_key_id"] != redacted {
		t.Errorf("a label named as a secret is not redacted whole: %v", got.Alerts[0].Labels)
	}
	if got.ID != r.ID || got.Incident.Candidates[0].Service != r.Incident.Candidates[0].Service {
		t.Errorf("redaction changed what is not secret: %s %s", got.ID, got.Incident.Candidates[0].Service)
	}
	// the incident others hold is left as it was
	if after, _ := json.Marshal(inc); string(after) != string(before) {
		t.Errorf("Redacted changed the record it was given")
	}
	if again := Redacted(got); again.Incident != got.Incident {
		t.Errorf("a clean incident is copied: redaction should leave it as it is")
	}
}

func TestMergeRedacts(t *testing.T) {
	m := Merge(Record{}, secretRecord())
	js, _ := json.Marshal(m)
	if strings.Contains(string(js), leak) {
		t.Errorf("Merge keeps the secret: %s", lines(string(js), leak))
	}
}

func TestPostmortemOfAHostileRecord(t *testing.T) {
	r := secretRecord()
	r.Title = `<img src=x onerror=alert(1)> & <script>x</script>`
	r.Notes = append(r.Notes, Note{T: r.Detected.T, By: "eve", Text: "<iframe src=//evil>"})
	r.Actions[0].Command = "kubectl apply -f - <<EOF " + strings.Repeat("x", 2<<20)
	// a past record written by hand into a shared store, bidi in its ID
	past := secretRecord()
	past.ID, past.Root = "inc-0000\u202eaaaa\x1b[2J", r.Root
	d := Postmortem(r, []Record{past}, pmOptions())
	js, _ := json.Marshal(d)
	md := d.Markdown()
	if strings.ContainsAny(md, "\u202e\x1b") || strings.ContainsAny(d.GitHubIssues(), "\u202e\x1b") {
		t.Errorf("a past record's ID brings a control or bidi character into the draft:\n%s", lines(md, "inc-0000"))
	}
	for name, out := range map[string]string{"markdown": md, "github": d.GitHubIssues(), "json": string(js)} {
		if strings.Contains(out, leak) {
			t.Errorf("%s shows the secret: %s", name, lines(out, leak))
		}
	}
	for _, html := range []string{"<img", "<script", "<iframe"} {
		if strings.Contains(md, html) || strings.Contains(d.GitHubIssues(), html) {
			t.Errorf("raw HTML %s in the draft", html)
		}
	}
	if !strings.Contains(md, "&lt;img src=x") || !strings.Contains(md, "&amp;") {
		t.Errorf("the title's HTML is not escaped:\n%s", lines(md, "img"))
	}
	// inside code the text is as it was: the command keeps its heredoc
	if !strings.Contains(md, "`kubectl apply -f - <<EOF x") {
		t.Errorf("the command in code is escaped or missing")
	}
	if len(md) > 100_000 || !strings.Contains(md, "more bytes; oncall audit shows it whole)") {
		t.Errorf("a 2 MB command is not trimmed: the draft is %d bytes", len(md))
	}
}

func TestCommandShownCutsAtACharacter(t *testing.T) {
	long := strings.Repeat("é", MaxCommandShown)
	got := CommandShown(long)
	if !strings.HasSuffix(got, "("+"2000 more bytes; oncall audit shows it whole)") || !strings.HasPrefix(got, "éé") {
		t.Errorf("CommandShown: …%s", got[len(got)-60:])
	}
	if short := "kubectl get pods"; CommandShown(short) != short {
		t.Errorf("a short command changed")
	}
}

func TestValidID(t *testing.T) {
	if !ValidID(RecordID("demo", "HighErrorRate", "checkout", pmAt(10, 0, 0))) {
		t.Errorf("RecordID's own ID is not valid")
	}
	for _, id := range []string{"", "../../x", "/tmp/atk/abs", "inc-0000aaa", "inc-0000AAAA", "inc-0000aaaa/..", "inc-0000aaaa\n", "inc-0000\u202eaaaa", "inc-0000aaaa.md", "last"} {
		if ValidID(id) {
			t.Errorf("ValidID(%q) is true", id)
		}
	}
}
