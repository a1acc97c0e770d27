package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/history"
)

// TestAcknowledgingRecordsTheAck: a from the incident view writes the
// silence and adds it to the incident's record as its acknowledgement,
// at the silence's start on the data's clock, and says so.
func TestAcknowledgingRecordsTheAck(t *testing.T) {
	f := fleetAt(t, "db-pool-exhaustion", 4, 6*time.Minute)
	d := recording(t, deps(f))
	d.AckFor = 30 * time.Minute
	a := startedWith(t, d, 160, 48)
	drive(t, a, press("enter"))
	if r := recordOf(t, a); !r.Acked.IsZero() {
		t.Fatalf("acknowledged before a: %+v", r.Acked)
	}
	drive(t, a, press("a"), press("y"))
	sil := f.Silences()
	if len(sil) != 1 {
		t.Fatalf("silences %+v", sil)
	}
	r := recordOf(t, a)
	if len(r.Acks) != 1 || r.Acks[0].By != "alice" || r.Acks[0].Silence != sil[0].ID || r.Acked.Kind != history.KindAck || !r.Acked.T.Equal(sil[0].StartsAt.UTC()) {
		t.Errorf("acks %+v, acknowledged %+v; want alice's silence %s", r.Acks, r.Acked, sil[0].ID)
	}
	if !strings.Contains(screen(a), "recorded in "+r.ID) {
		t.Errorf("the acknowledgement does not say it was recorded:\n%s", screen(a))
	}
}
