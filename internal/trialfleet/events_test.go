package trialfleet

import (
	"testing"
	"time"
)

func TestSlotsQueueInOrderAndGiveUpAtTheirLimit(t *testing.T) {
	c := NewClock(t0)
	pool := NewSlots(c, 1)
	var waits []time.Duration
	var timedOut []string
	grant := func(waited time.Duration) { waits = append(waits, waited) }
	pool.Acquire(0, grant, nil) // holds the only slot
	pool.Acquire(time.Second, grant, func() { timedOut = append(timedOut, "b") })
	pool.Acquire(100*time.Millisecond, grant, func() { timedOut = append(timedOut, "c") })
	c.After(300*time.Millisecond, pool.Release)
	c.Advance(t0.Add(2 * time.Second))
	if len(waits) != 2 || waits[0] != 0 || waits[1] != 300*time.Millisecond {
		t.Errorf("waits = %v, want [0 300ms]: b waits for the release", waits)
	}
	if len(timedOut) != 1 || timedOut[0] != "c" {
		t.Errorf("timed out = %v, want [c] after its 100ms limit", timedOut)
	}
	if pool.InUse() != 1 || pool.Waiting() != 0 {
		t.Errorf("in use %d, waiting %d; want 1, 0", pool.InUse(), pool.Waiting())
	}
}

func TestSlotsResizeDrainsAndRefills(t *testing.T) {
	c := NewClock(t0)
	pool := NewSlots(c, 2)
	granted := 0
	for range 3 {
		pool.Acquire(0, func(time.Duration) { granted++ }, nil)
	}
	if granted != 2 {
		t.Fatalf("granted %d of 3 with 2 slots", granted)
	}
	pool.Resize(1)
	pool.Release() // 1 held, max 1: the waiter still waits
	if granted != 2 {
		t.Errorf("a waiter was granted above the shrunk size")
	}
	pool.Resize(2)
	if granted != 3 {
		t.Errorf("growing the pool did not serve the waiter")
	}
}
