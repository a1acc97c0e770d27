package correlate

import "time"

// Every threshold and weight the analysis uses, each with why it has its
// value. They were set on the simulator's scenarios and are checked by
// internal/evaltest; change one here and run those tests. The bounds on
// how much gathering asks (steps, slices, traces) are beside it, in
// screen.go and traces.go.

// Calling a service anomalous (anomaly.go).
const (
	// ErrorDelta is how far a service's error ratio must rise above its
	// baseline: one request in a hundred is what a user starts to notice,
	// and it clears the background noise of a healthy fleet (under 0.1%).
	ErrorDelta = 0.01
	// ErrorJump is a rise large enough to need no second sample: five
	// points at once is a crash or a kill, not noise.
	ErrorJump = 5 * ErrorDelta
	// MinErrorsPerSecond keeps a low-traffic service from turning
	// anomalous on one stray error: below it a ratio means nothing.
	MinErrorsPerSecond = 0.05
	// LatencyFactor is how much a p99 must grow over its baseline: 1.5×
	// is beyond a p99's run-to-run wobble at 15 s resolution.
	LatencyFactor = 1.5
	// LatencyFloor is the least p99 growth that counts, so a 2 ms cache
	// going to 3.5 ms is not news.
	LatencyFloor = 10 * time.Millisecond
	// Sustain is how many consecutive steps must be bad: one bad scrape
	// is a blip.
	Sustain = 2
	// FullErrorMagnitude is the error-ratio rise that counts as the
	// largest anomaly (magnitude 1): a fifth of requests failing.
	FullErrorMagnitude = 0.2
	// FullLatencyMagnitude is the p99 growth that counts as the largest
	// anomaly: ten times slower. Magnitude grows with its logarithm.
	FullLatencyMagnitude = 10.0
	// MinBaselinePoints is the least healthy history a baseline needs:
	// two minutes at 15 s. With less before the window, the earliest data
	// is the baseline instead, and the notes say so.
	MinBaselinePoints = 8
	// RecoveredFor is how long an anomaly must have been over before the
	// data's end to be an earlier incident that recovered, not the one
	// going on: two minutes of healthy steps is past a blip between bad
	// ones.
	RecoveredFor = 2 * time.Minute
	// EpisodeGap is the healthy stretch between two bad spells of a
	// service that makes them two incidents, the later one judged: longer
	// than RecoveredFor, because a crash loop's restarts come a minute or
	// two apart, and twice the longest lull between the earlier spell's
	// bad steps, for the same reason. No longer than two and a half
	// minutes: the spells are read through a rate over two minutes, which
	// draws each one's end out by nearly that much, so an earlier fault
	// that recovered four minutes before the next began reads as only
	// about two and a half healthy minutes, and kept as one spell it would
	// lend the next incident its earlier onset.
	EpisodeGap = 150 * time.Second
	// SurgeFactor is how much an edge's request rate must grow over its
	// baseline to count as a surge (load or retries): the daily traffic
	// shape moves rates by up to 30% within an hour, and a surge that
	// hurts is almost always a doubling.
	SurgeFactor = 1.8
	// MinEdgeCoverage is the least of a service-graph slice the data
	// must cover for its rates to be scaled to that part
	// (coverEdgeBaseline): a rate needs two samples, and Tempo's
	// generator sends one every 15 s, so under a minute the increase is
	// one or two scrapes and the scale would multiply their noise.
	MinEdgeCoverage = time.Minute
	// NotedEdgeScale is the scale from which NOTES says the service
	// graph's baseline was scaled: data missing from a fifth of the
	// baseline or more moves its rates more than a quiet hour's traffic
	// does, and less is not worth a line.
	NotedEdgeScale = 1.25
)

// Services that stopped reporting (stopped.go), and onsets before the
// window (widen.go).
const (
	// StoppedSteps and StoppedMinGap bound how long before the fleet's
	// last sample a service's series must end for it to have stopped
	// reporting: three steps is past a late or missed scrape at the end
	// of a range (one step is the usual lag between targets), and two
	// minutes is past a missed scrape at a one-minute interval, which a
	// step of 15 s would call three steps.
	StoppedSteps  = 3
	StoppedMinGap = 2 * time.Minute
	// StoppedScoreShare is what is left of the score of a candidate that
	// stopped reporting: its last data was anomalous, but says nothing of
	// what fails now, so a live cause with half its evidence outranks it.
	StoppedScoreShare = 0.5
	// RecoveredScoreShare is what is left of the score of a candidate
	// whose anomaly recovered while others are still live: it may have
	// started them, but a service healthy for RecoveredFor is not what
	// keeps them failing, so a live cause with half its evidence
	// outranks it.
	RecoveredScoreShare = 0.5
	// OnsetPinnedSteps is how close to the window's start (in steps) a
	// first onset is pinned to it: detect's first point is one step after
	// the start, so an onset there may have begun any time before.
	OnsetPinnedSteps = 1
)

// Telling victims from causes (rank.go).
const (
	// RetryAmplificationShare is the share of traced calls into a service
	// that are retries above which its callers' extra traffic is the
	// retries it provoked (retry amplification), not a load surge that
	// explains it away. A healthy fleet retries under 1% of calls.
	RetryAmplificationShare = 0.2
	// RetryStormShare is the share of retries above which the chain says
	// "retry storm": most calls into the service are repeats.
	RetryStormShare = 0.5
	// ChangeLeadsOnset is how long before a dependency's anomaly a change
	// to it still explains the anomaly: a bad rollout takes minutes to
	// reach every replica.
	ChangeLeadsOnset = 5 * time.Minute
	// SuspectChangesBefore and SuspectChangesAfter bound the changes that
	// are suspects, around the first anomaly: a deploy an hour earlier is
	// rarely the cause, and one after the onset may be the fix.
	SuspectChangesBefore = 15 * time.Minute
	SuspectChangesAfter  = time.Minute
	// NoiseMagnitude is the magnitude under which an anomaly with no log
	// signature, no alert and no anomalous dependency is background noise.
	NoiseMagnitude = 0.3
	// PageworthyMagnitude is the magnitude from which an anomaly is worth
	// a look on its own, with no alert and no hurt entry point: about a
	// tenth of a service's requests failing.
	PageworthyMagnitude = 0.5
)

// Queueing inside a service (queueing.go): the time a request waits for
// a worker, a lock or a queue before its first call is the waiting
// service's, however fast the calls then are.
const (
	// QueueMinWait is the least wait before a server span's first call
	// that counts as queueing: well above the few milliseconds of
	// parsing, auth and routing a handler does before it calls out.
	QueueMinWait = 100 * time.Millisecond
	// QueueWaitShare is the share of a request's time the wait before its
	// first call must take: most of it, so that a handler doing real work
	// before a fast call is not taken for a queue.
	QueueWaitShare = 0.5
	// QueueSpanShare is the share of a service's traced requests with
	// calls that must have waited so (more than it): most of them, not one
	// unlucky request behind a garbage-collection pause.
	QueueSpanShare = 0.5
	// QueueMinSpans is how many of its traced requests with calls a
	// service needs before its waits mean anything: one is an anecdote.
	QueueMinSpans = 2
	// CPUClimbStep is how much of its limit a CPU must gain from one
	// reading to the next to be climbing towards it (cpu.go): at rest a
	// CPU's rate wobbles by a tenth of that, and a climb from idle to the
	// limit over ten minutes of 15 s readings gains 2.4 at each.
	CPUClimbStep = 0.01
	// SpanParentSlack is how far a span may start outside its parent span
	// and still be its child: hosts' clocks drift by milliseconds, a few
	// seconds at worst. A span that names as parent one that ended minutes
	// before it started shares its trace and span IDs by accident (a
	// generator seeded alike in two processes, a reused ID); joining them
	// would invent a call between unrelated services.
	SpanParentSlack = 30 * time.Second
)

// Scoring candidates (rank.go). The weights add up to the best score a
// candidate can reach; confidence is the score over a share of that sum.
var weights = struct{ unexplained, earliest, reach, magnitude, traces, logs, queue, pool, cpu, change, alert float64 }{
	// no dependency explains it: the strongest sign of a root cause
	unexplained: 2,
	// it started first
	earliest: 1.5,
	// the other anomalous services depend on it
	reach: 2,
	// how far it departs from its baseline
	magnitude: 1,
	// failed traces start here
	traces: 1.5,
	// its own logs name a failure of its own (pool, OOM, panic, queue)
	logs: 1.5,
	// its requests wait inside it before their first call, or its worker
	// pool is full, while its calls are fast: its own mechanism, as
	// telling as its own logs saying so
	queue: 1.5,
	// a full connection pool that filled from its side, or because it
	// (the pool's target) slowed first: as telling as its own logs
	pool: 1.5,
	// its CPU at its limit from at or before its latency rose: its own
	// mechanism, as telling as a full pool of its own
	cpu: 1.5,
	// it changed shortly before
	change: 1.5,
	// an alert of its own, not an SLO burn: weak, since alerts lag
	alert: 0.5,
}

const (
	// VictimDiscount scales the evidence at a service whose anomaly a
	// dependency or a load surge explains: it is a victim showing symptoms.
	VictimDiscount = 0.5
	// EarliestWindow is how late after the first anomaly an onset still
	// earns some of the earliest weight, falling to none: two minutes is
	// how long a cascade takes to climb a few tiers.
	EarliestWindow = 2 * time.Minute
	// ChangeBeforeOnsetWindow is how long before the first anomaly a
	// change still earns some of the earliest weight.
	ChangeBeforeOnsetWindow = 5 * time.Minute
	// ChangeDecay is how fast a change's suspicion fades with its lead
	// over the first anomaly, to ChangeFloor: a deploy ten minutes before
	// is a weaker suspect than one a minute before.
	ChangeDecay = 10 * time.Minute
	ChangeFloor = 0.2
	// UnnoticedChangeWeight is what a change weighs when nothing around
	// it is anomalous: a deploy nobody noticed.
	UnnoticedChangeWeight = 0.3
	// RolledBackChangeShare is what is left of a change's weight when a
	// rollback of its service came after it and before the first anomaly:
	// what it did was undone before anything broke, so at most a slow
	// effect of it (a cache it poisoned) is left.
	RolledBackChangeShare = 0.3
	// ChangedUnexplainedShare is the unexplained weight a changed but not
	// anomalous service earns (a flushed cache answers fast, and wrongly):
	// less than an anomaly nothing explains.
	ChangedUnexplainedShare = 0.8
	// LogLinesForFullWeight is how many lines of its own failure
	// signature earn the full log weight; OOMLinesForFullWeight is the
	// same for OOM kills, each of which is a container killed.
	LogLinesForFullWeight = 20
	OOMLinesForFullWeight = 3
	// BlameShare is the share of the log weight earned by the lines of
	// callers that name a service (timeouts, refused, breaker): they
	// point at it, but a caller blames whatever it waited on.
	BlameShare = 0.5
	// ConfidenceAt is the share of the best score that means certainty:
	// no real incident has every kind of evidence at once. It is a score
	// of 6.3, what nothing explaining it, starting first and most of the
	// fleet depending on it earn with most of the magnitude: the share
	// was 0.55 of the eight kinds weighed before the queue and the pool,
	// and holding the score keeps the likely and possible bands
	// calibrated as they were (0.395 of the sum with the CPU's weight).
	ConfidenceAt = 0.395
	// MinEvidenceKinds is how many independent kinds of evidence a
	// candidate needs to be more than "possible".
	MinEvidenceKinds = 2
	// CloseScores is the score gap under which two candidates are both
	// named in the notes: check both.
	CloseScores = 0.5
	// NoiseScoreShare is what is left of the score of a candidate that
	// looks like background noise, so a real cause outranks it.
	NoiseScoreShare = 0.5
	// OnsetTolerance is how many metric steps apart two onsets may be and
	// still count as simultaneous: a scrape lands anywhere in its step.
	OnsetTolerance = 2
	// CandidatesShown is how many candidates an incident reports: three
	// is what a person weighs at once.
	CandidatesShown = 3
)

// Confidence bands. A candidate under LikelyConfidence is reported, but
// the incident says the evidence is thin.
const (
	LikelyConfidence   = 0.6
	PossibleConfidence = 0.35
)

// The explanation chain (incident.go).
const (
	// ChainMaxLinks bounds the chain: past seven hops an explanation is a
	// graph, not a sentence.
	ChainMaxLinks = 7
	// ChainEvidencePerLink is what each piece of a link's own evidence (a
	// log signature of its own, an exhausted pool) adds to a path, where
	// each link adds 1: a path through services with evidence beats a
	// longer one without.
	ChainEvidencePerLink = 20
)

// The overview's health of a service (health.go).
const (
	// FailingErrorRatio is the error ratio at which a service is failing
	// rather than degraded: one request in twenty.
	FailingErrorRatio = 0.05
	// FailingLatencyFactor is the p99 growth at which a service is failing:
	// three times slower breaks most callers' timeouts.
	FailingLatencyFactor = 3.0
)

// Screening: which services to read whole (screen.go). A fleet of
// thousands answers the screen in a few numbers per service; only the
// services whose numbers could hide an anomaly are then read as series,
// and detect judges them as it judges every service. The screen is
// looser than detect, so that it never hides what detect would find.
const (
	// ScreenErrorDelta is half of ErrorDelta: a window's worst point
	// whose error ratio rose this far over the baseline's median is read
	// whole, and detect, at finer steps, decides.
	ScreenErrorDelta = ErrorDelta / 2
	// ScreenLatencyFactor is halfway from no growth to LatencyFactor,
	// for the same reason; growth under LatencyFloor/2 is not read.
	ScreenLatencyFactor = 1 + (LatencyFactor-1)/2
	// ScreenSurgeFactor is a worst minute of traffic, against the
	// baseline's mean, that is read whole: a surge of demand or retries
	// counts from SurgeFactor, and a minute's rate wobbles more than the
	// five minutes that SurgeFactor is judged over.
	ScreenSurgeFactor = 1 + (SurgeFactor-1)/2
	// ScreenMinErrorsPerSecond is half of MinErrorsPerSecond: errors at
	// a service whose worst ratio times its busiest minute stays under
	// it are too few for detect to count, however their ratio jumps, as
	// one failure in a minute of a request a second does.
	ScreenMinErrorsPerSecond = MinErrorsPerSecond / 2
	// ScreenDropFactor is a fall of the window's mean traffic that is
	// read whole: a service that crashes, or is cut off by its callers.
	ScreenDropFactor = 1.25
	// ScreenResolution is the spacing of the points the screen's worst
	// and median are taken from: the rates behind them span two minutes
	// (rateWindow), so a finer spacing finds no higher peak.
	ScreenResolution = time.Minute
	// ScreenReadAllAbove is how many services to read whole past which
	// every service is read instead: a selector naming hundreds of
	// services costs the server more to match than reading all of them.
	ScreenReadAllAbove = 300
)
