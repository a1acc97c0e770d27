package history

import "time"

// RecordFigures is one record's MTTD, MTTA and MTTR, measured as the
// on-call figures measure them, so that a listing, a postmortem and
// `oncall stats` give one duration for one incident:
//
//	func RecordFigures(r Record) RecordTimes
//
// MTTR runs from the onset when it is known, else from the detection
// (RecordTimes.FromDetection says which), to the resolution.
func RecordFigures(r Record) RecordTimes {
	t := RecordTimes{
		Detect: measure(r.Onset, r.Detected),
		Ack:    measure(r.Detected, r.Acked),
	}
	if a := r.Acked; !a.IsZero() && a.T.Before(r.Detected.T) && !a.T.Before(ackFrom(r)) {
		t.Ack.D, t.Ack.OK = 0, true // acked in the step before the first sample (ackOf): at once
	}
	start := r.Onset
	if start.IsZero() {
		start, t.FromDetection = r.Detected, true
	}
	t.Resolve = measure(start, r.Resolved)
	return t
}

// RecordTimes is one record's three figures.
type RecordTimes struct {
	Detect  Measure // MTTD: onset → the first alert
	Ack     Measure // MTTA: the first alert → the first acknowledgement
	Resolve Measure // MTTR: onset (else detection) → resolution
	// FromDetection says Resolve starts at the detection: the onset is
	// unknown.
	FromDetection bool
}

// Measure is one interval of one record: From → To, each stamp with its
// source. OK is false when an end is unknown, or when To is before From:
// that is a clock or a record at odds, not a negative time.
type Measure struct {
	From, To Stamp
	D        time.Duration
	OK       bool
}

func measure(from, to Stamp) Measure {
	m := Measure{From: from, To: to}
	if from.IsZero() || to.IsZero() || to.T.Before(from.T) {
		return m
	}
	m.D, m.OK = to.T.Sub(from.T), true
	return m
}
