package trialfleet

import (
	"container/heap"
	"time"
)

// Clock is the model's discrete-event engine: callbacks run in time
// order, and Advance runs every callback due up to a wall-clock instant,
// so the model keeps pace with real time without a goroutine per request.
type Clock struct {
	now    time.Time
	events eventHeap
	seq    uint64 // breaks ties in scheduling order, so runs are reproducible
}

// NewClock starts the model's time at start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now is the model's current time.
func (c *Clock) Now() time.Time { return c.now }

// After runs f once d has passed in model time; a negative d runs it now.
func (c *Clock) After(d time.Duration, f func()) *Timer {
	if d < 0 {
		d = 0
	}
	c.seq++
	t := &Timer{at: c.now.Add(d), seq: c.seq, run: f}
	heap.Push(&c.events, t)
	return t
}

// Advance runs every event due at or before until, then sets the clock
// to until.
func (c *Clock) Advance(until time.Time) {
	for len(c.events) > 0 && !c.events[0].at.After(until) {
		t := heap.Pop(&c.events).(*Timer)
		if t.stopped {
			continue
		}
		c.now = t.at
		t.run()
	}
	if until.After(c.now) {
		c.now = until
	}
}

// Timer is a scheduled callback; Stop cancels it if it has not run.
type Timer struct {
	at      time.Time
	seq     uint64
	run     func()
	stopped bool
	index   int
}

// Stop keeps the callback from running.
func (t *Timer) Stop() { t.stopped = true }

type eventHeap []*Timer

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].seq < h[j].seq
	}
	return h[i].at.Before(h[j].at)
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i]; h[i].index = i; h[j].index = j }
func (h *eventHeap) Push(x any)   { t := x.(*Timer); t.index = len(*h); *h = append(*h, t) }
func (h *eventHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

// Slots is a pool of identical slots with a FIFO wait queue: a worker
// pool, a connection pool or a CPU's cores. A waiter that is not served
// within its wait limit gives up, as HikariCP's connectionTimeout does.
type Slots struct {
	clock   *Clock
	max     int
	inUse   int
	waiters []*slotWaiter
}

type slotWaiter struct {
	since   time.Time
	granted func(waited time.Duration)
	timer   *Timer
	done    bool
}

// NewSlots makes a pool of max slots.
func NewSlots(clock *Clock, max int) *Slots { return &Slots{clock: clock, max: max} }

// Acquire calls granted with the time waited once a slot is free, or
// timedOut after limit (0: wait for ever). A free slot is granted at
// once, synchronously.
func (s *Slots) Acquire(limit time.Duration, granted func(waited time.Duration), timedOut func()) {
	if s.inUse < s.max && len(s.waiters) == 0 {
		s.inUse++
		granted(0)
		return
	}
	w := &slotWaiter{since: s.clock.Now(), granted: granted}
	if limit > 0 {
		w.timer = s.clock.After(limit, func() {
			w.done = true
			s.dropDone()
			timedOut()
		})
	}
	s.waiters = append(s.waiters, w)
}

// Release frees a slot and hands it to the longest waiter, if any.
func (s *Slots) Release() {
	s.inUse--
	s.grant()
}

// Resize changes the pool's size, as a config change or a fault does;
// slots in use above the new size drain as they are released.
func (s *Slots) Resize(max int) {
	s.max = max
	s.grant()
}

func (s *Slots) grant() {
	for s.inUse < s.max && len(s.waiters) > 0 {
		w := s.waiters[0]
		s.waiters = s.waiters[1:]
		if w.done {
			continue
		}
		w.done = true
		if w.timer != nil {
			w.timer.Stop()
		}
		s.inUse++
		w.granted(s.clock.Now().Sub(w.since))
	}
}

func (s *Slots) dropDone() {
	kept := s.waiters[:0]
	for _, w := range s.waiters {
		if !w.done {
			kept = append(kept, w)
		}
	}
	s.waiters = kept
}

// InUse is the number of slots held now.
func (s *Slots) InUse() int { return s.inUse }

// Max is the pool's size now.
func (s *Slots) Max() int { return s.max }

// Waiting is the number of waiters queued now.
func (s *Slots) Waiting() int { return len(s.waiters) }
