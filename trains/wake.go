package trains

import (
	"context"
	"time"
)

// AlarmClock is a Clock that can also wake a waiter when its time reaches
// a moment. The scheduler uses it to wake at the next due moment (SPEC
// §7); a test clock moved by hand fires its alarms as it passes them. With
// a Clock that is not an AlarmClock, the scheduler sets a timer of the
// wall clock for the time left.
type AlarmClock interface {
	Clock
	// Alarm returns a channel that receives the clock's time once it has
	// reached at, and a function that cancels the alarm.
	Alarm(at time.Time) (<-chan time.Time, func())
}

// alarm is a channel that receives once c reaches at, and its cancel.
func alarm(c Clock, at time.Time) (<-chan time.Time, func()) {
	if ac, ok := c.(AlarmClock); ok {
		return ac.Alarm(at)
	}
	t := time.NewTimer(max(at.Sub(c.Now()), 0))
	return t.C, func() { t.Stop() }
}

// sleep waits until the service's clock reaches at (no such moment when at
// is zero), the wall clock's d passes, wake receives, or ctx ends; it
// reports false when ctx ended.
func (s *Service) sleep(ctx context.Context, at time.Time, d time.Duration, wake <-chan time.Time) bool {
	var due <-chan time.Time
	if !at.IsZero() {
		ch, cancel := alarm(s.clock, at)
		defer cancel()
		due = ch
	}
	poll := time.NewTimer(d)
	defer poll.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-due:
	case <-poll.C:
	case <-wake:
	}
	return ctx.Err() == nil
}

// soonest is the earliest of moments that are after now; zero when none is.
func soonest(now time.Time, moments ...time.Time) time.Time {
	var next time.Time
	for _, m := range moments {
		if m.After(now) && (next.IsZero() || m.Before(next)) {
			next = m
		}
	}
	return next
}
